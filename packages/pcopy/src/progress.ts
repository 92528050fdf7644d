// The copy progress report lives in @pkit/storage (prun's pull, push, save and load print it too).
export { copyProgress } from '@pkit/storage';
