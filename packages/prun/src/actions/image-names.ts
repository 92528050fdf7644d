// Which of an image's names a user's query meant: shared with pbuild, kept in @pkit/cli-common.
export { findNamedImage } from '@pkit/cli-common/image-names';
