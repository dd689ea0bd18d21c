/**
 * File formats ganforge writes and reads: .npy arrays (interchange with numpy) and PNG image grids /
 * 2-D scatter plots.
 */
export { encodeNpy, decodeNpy, writeNpy, readNpy, type NpyArray, type NpyData, type NpyDType } from './npy.js';
export { imageGrid, scatterPlot, toUint8Images, type ScatterOptions } from './png.js';
