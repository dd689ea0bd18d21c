import { availableParallelism } from 'node:os';

// Imported first by the CLI, before anything can start libuv's thread pool (it reads UV_THREADPOOL_SIZE once, when
// it starts): sharp's decodes run on that pool, shared by every worker thread, and its default of 4 threads would
// cap a streamed folder's decode threads at 4 on a larger machine. A value the user set is kept.
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = String(Math.max(4, availableParallelism()));
