import type { GanFamily } from '../gan/family.js';
import { unknownChoice } from '../util/errors.js';
import { vanilla } from './vanilla.js';
import { dcgan } from './dcgan.js';
import { wgan } from './wgan.js';
import { wganGp } from './wgan_gp.js';
import { lsgan } from './lsgan.js';
import { cgan } from './cgan.js';
import { sngan } from './sngan.js';
import { biggan } from './biggan.js';
import { bigan } from './bigan.js';
import { aae } from './aae.js';
import { vaegan } from './vaegan.js';
import { acgan } from './acgan.js';
import { infogan } from './infogan.js';
import { pix2pix } from './pix2pix.js';
import { cyclegan } from './cyclegan.js';
import { stylegan2 } from './stylegan2.js';
import { simgan } from './simgan.js';
import { inpaint } from './inpaint.js';
import { srresnet } from './srresnet.js';
import { srgan } from './srgan.js';
import { esrgan } from './esrgan.js';
import { agecgan } from './agecgan.js';
import { dfgan } from './dfgan.js';
import { stackgan } from './stackgan.js';
import { attngan } from './attngan.js';
import { timegan } from './timegan.js';
import { rgan } from './rgan.js';
import { rcgan } from './rcgan.js';
import { ebgan } from './ebgan.js';
import { began } from './began.js';

/** Every trainable family by name. A new family is a new file plus one line here. */
export const MODELS: Readonly<Record<string, GanFamily>> = {
  vanilla,
  dcgan,
  wgan,
  'wgan-gp': wganGp,
  lsgan,
  cgan,
  sngan,
  biggan,
  bigan,
  aae,
  vaegan,
  acgan,
  infogan,
  pix2pix,
  cyclegan,
  stylegan2,
  simgan,
  inpaint,
  srresnet,
  srgan,
  esrgan,
  agecgan,
  dfgan,
  stackgan,
  attngan,
  timegan,
  rgan,
  rcgan,
  ebgan,
  began,
};

export const MODEL_NAMES = Object.keys(MODELS);

export function getModel(name: string): GanFamily {
  const family = MODELS[name];
  if (!family) throw unknownChoice('model', name, MODEL_NAMES);
  return family;
}
