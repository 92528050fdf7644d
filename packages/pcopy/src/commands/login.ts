// `pcopy login`: the command prun shares (@pkit/cli-common).
export { default } from '@pkit/cli-common/commands/login';
