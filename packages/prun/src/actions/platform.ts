// The platform flags live in @pkit/cli-common/platform (pbuild pull parses them too).
export { parsePlatformFlags, type Platform, type PlatformFlags } from '@pkit/cli-common/platform';
