import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { outputPaths } from '../../src/cli/output_paths.js';

test('outputPaths: a folder gives OUT/NAME.png per input; a .png file takes one input', () => {
  assert.deepEqual(outputPaths('out', [{ file: 'in/a.jpg', name: 'a' }, { name: '07' }]), { folder: 'out', paths: [path.join('out', 'a.png'), path.join('out', '07.png')] });
  assert.deepEqual(outputPaths('res/x.PNG', [{ file: 'in/a.jpg', name: 'a' }]), { folder: 'res', paths: ['res/x.PNG'] });
});

test('outputPaths refuses what would lose or misname a result, naming the fix', () => {
  assert.throws(() => outputPaths('x.jpg', [{ name: 'a' }]), /--out x\.jpg: results are written as PNG; name a folder or a \.png file/);
  assert.throws(() => outputPaths('x.png', [{ name: 'a' }, { name: 'b' }]), /--out x\.png names one file, but there are 2 inputs; name a folder/);
  assert.throws(() => outputPaths('in', [{ file: 'in/a.png', name: 'a' }]), /--out in would overwrite the input in\/a\.png; choose another folder/);
  assert.throws(() => outputPaths('in/a.png', [{ file: path.resolve('in/a.png'), name: 'a' }]), /would overwrite the input .*choose another file/);
  assert.throws(() => outputPaths('out', [{ file: 'p/a.jpg', name: 'a' }, { file: 'q/a.png', name: 'a' }]),
    /inputs p\/a\.jpg and q\/a\.png would both be written to out\/a\.png; rename one/);
});
