import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findGpus } from '../../src/shared/devices/gpus';

/** What findGpus finds under a folder shaped like the parts of / it reads, holding `files` (path -> content). */
function gpusOf(files: Record<string, string>): string[] | null {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-gpus-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return findGpus('linux', root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a machine with no GPU has none: no NVIDIA driver, no display controller, no device node', () => {
  assert.deepEqual(gpusOf({ 'dev/null': '', 'proc/cpuinfo': 'processor: 0\n' }), []);
});

test('the NVIDIA driver names its GPUs', () => {
  assert.deepEqual(gpusOf({
    'proc/driver/nvidia/gpus/0000:01:00.0/information': 'Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 35\n',
    'proc/driver/nvidia/gpus/0000:02:00.0/information': 'Model: \t\t NVIDIA RTX A4000\n',
  }), ['NVIDIA H100 80GB HBM3', 'NVIDIA RTX A4000']);
});

test('a GPU-vendor display controller counts; virtual adapters and connectors do not', () => {
  assert.deepEqual(gpusOf({
    'sys/class/drm/card0/device/vendor': '0x8086\n',
    'sys/class/drm/card0/device/class': '0x030000\n',
    'sys/class/drm/card0/device/device': '0x9a49\n',
    'sys/class/drm/card0-HDMI-A-1/status': 'connected\n',
    'sys/class/drm/card1/device/vendor': '0x1af4\n', // virtio-gpu in a virtual machine
    'sys/class/drm/card1/device/class': '0x030000\n',
    'sys/class/drm/card2/device/vendor': '0x8086\n', // an Intel device that is not a display controller
    'sys/class/drm/card2/device/class': '0x048000\n',
  }), ['Intel GPU 0x9a49']);
});

test('a virtual machine\'s display adapter alone is no GPU', () => {
  assert.deepEqual(gpusOf({ 'sys/class/drm/card0/device/vendor': '0x1234\n', 'sys/class/drm/card0/device/class': '0x030000\n' }), []);
});

test('a container given only /dev/nvidia0 still has a GPU', () => {
  assert.deepEqual(gpusOf({ 'dev/nvidia0': '', 'dev/nvidiactl': '' }), ['NVIDIA GPU']);
});

test('other platforms answer unknown rather than guess', () => {
  assert.equal(findGpus('darwin'), null);
  assert.equal(findGpus('win32'), null);
});
