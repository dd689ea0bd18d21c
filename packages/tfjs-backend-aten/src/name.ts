/** The name this backend registers under (`tf.setBackend('aten')`). Its own module, so that the kernel
 *  helpers and the CPU fallback both import it without importing each other. */
export const BACKEND_NAME = 'aten';
