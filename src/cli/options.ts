import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { SHARED_SETTINGS, flagOf, isIntegerSetting, type RunConfig, type Setting, type SettingsTable } from '../gan/config.js';

/** A commander argument parser: the flag's value as a number (an integer when asked), else an error naming the flag. */
export function parseNumber(flag: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${flag} needs ${integer ? 'an integer' : 'a number'}, got '${value}'`);
    }
    return n;
  };
}

/** One flag for a setting, its kind read from the setting's default and schema: a switch, a number, a choice or text. */
function optionOf(key: string, s: Setting, owner?: string): Option {
  const flag = flagOf(key);
  const about = owner ? `${s.help} [${owner}]` : s.help;
  if (typeof s.default === 'boolean') return new Option(flag, about).default(s.default);
  const numeric = typeof s.default === 'number';
  const opt = new Option(`${flag} <${numeric ? 'n' : 'value'}>`, about).default(s.default);
  if (numeric) opt.argParser(parseNumber(flag, isIntegerSetting(s)));
  if (s.schema instanceof z.ZodEnum) opt.choices(s.schema.options as string[]);
  return opt;
}

/**
 * Add one flag per setting: the shared ones, then each family's own (help says whose). Defaults show in --help;
 * model families may change them (see `ganforge models`).
 */
export function addConfigOptions(cmd: Command, families: readonly { name: string; settings?: SettingsTable }[] = []): Command {
  for (const [key, s] of Object.entries(SHARED_SETTINGS)) if (key !== 'model') cmd.addOption(optionOf(key, s as Setting));
  const seen = new Set<string>(Object.keys(SHARED_SETTINGS));
  for (const family of families) {
    for (const [key, s] of Object.entries(family.settings ?? {})) {
      if (seen.has(key)) continue; // a setting two families share (same key, same meaning) gets one flag
      seen.add(key);
      const owners = families.filter((f) => f.settings && key in f.settings).map((f) => f.name).join(', ');
      cmd.addOption(optionOf(key, s, owners));
    }
  }
  return cmd;
}

/** Only the settings the user actually typed: defaults must not mask a family's or a preset's values. */
export function explicitConfig(cmd: Command, families: readonly { settings?: SettingsTable }[] = []): Partial<RunConfig> {
  const out: Record<string, unknown> = {};
  const values = cmd.opts();
  const keys = new Set([...Object.keys(SHARED_SETTINGS), ...families.flatMap((f) => Object.keys(f.settings ?? {}))]);
  for (const key of keys) {
    if (cmd.getOptionValueSource(key) === 'cli') out[key] = values[key];
  }
  return out as Partial<RunConfig>;
}
