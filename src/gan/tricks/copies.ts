import * as tfl from '@tensorflow/tfjs-layers';

/**
 * A second network with `model`'s architecture and current weights, not trainable (no optimizer sees it). Used
 * for running averages of a player's weights (EMA of G, historical averages), which live in GanNetworks.extra
 * and are therefore saved and restored with every checkpoint like G and D.
 */
export function copyNetwork(model: tfl.LayersModel, name: string): tfl.LayersModel {
  const cls = model instanceof tfl.Sequential ? tfl.Sequential : tfl.LayersModel;
  const copy = cls.fromConfig(cls, { ...model.getConfig(), name }) as tfl.LayersModel;
  copy.setWeights(model.getWeights());
  copy.trainable = false;
  return copy;
}

/**
 * Each weight of `model` with the same weight of `copy` and whether it is trained (false for batch-norm moving
 * statistics). Paired layer by layer: a model's flat weight list puts trainable weights first, so it is
 * ordered differently in a non-trainable copy.
 */
export function pairedWeights(model: tfl.LayersModel, copy: tfl.LayersModel): { source: tfl.LayerVariable; target: tfl.LayerVariable; trainable: boolean }[] {
  if (model.layers.length !== copy.layers.length) throw new Error(`'${copy.name}' does not have the architecture of '${model.name}'`);
  return model.layers.flatMap((layer, i) => {
    const theirs = copy.layers[i].weights;
    if (theirs.length !== layer.weights.length) throw new Error(`'${copy.name}' does not have the architecture of '${model.name}'`);
    return layer.weights.map((w, j) => ({ source: w, target: theirs[j], trainable: w.trainable }));
  });
}
