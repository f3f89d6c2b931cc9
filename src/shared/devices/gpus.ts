/**
 * Which GPUs this machine has, read from the kernel rather than from ONNX Runtime. ONNX Runtime's
 * failures do not say whether a GPU exists: "Failed to load shared library" reads the same on a
 * laptop with no GPU and on a workstation whose CUDA libraries are missing. The status bar warns only
 * in the second case (see statusBar.ts), so it needs to know which one it is.
 *
 * Linux only: elsewhere Kestrel cannot tell cheaply and answers null (unknown).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** PCI vendors whose display controllers are GPUs an execution provider could use. */
const GPU_VENDORS: Record<string, string> = { '0x10de': 'NVIDIA', '0x1002': 'AMD', '0x8086': 'Intel' };

/**
 * Names of the GPUs found (e.g. "NVIDIA H100 80GB HBM3", "Intel GPU 0x9a49"), [] when there is none,
 * null where the platform gives no cheap answer. `root` is the filesystem root (tests point it at a
 * folder shaped like /proc and /sys).
 */
export function findGpus(platform: NodeJS.Platform = process.platform, root = '/'): string[] | null {
  if (platform !== 'linux') return null;
  // The NVIDIA driver names each GPU it drives; containers with GPUs passed through have this too.
  const nvidia = readEach(join(root, 'proc/driver/nvidia/gpus'), (dir) => {
    const model = /^Model:\s*(.+)$/m.exec(readOr(join(dir, 'information')))?.[1]?.trim();
    return model && model.length > 0 ? model : 'NVIDIA GPU';
  });
  if (nvidia.length > 0) return nvidia;
  // Any driver: display controllers (PCI class 0x03xxxx) from a GPU vendor. Virtual display adapters
  // (virtio, QXL, a server's BMC) are display controllers too, but no provider runs on them.
  const drm = readEach(join(root, 'sys/class/drm'), (dir, name) => {
    if (!/^card\d+$/.test(name)) return undefined; // connectors are card0-HDMI-A-1 and the like
    const vendor = GPU_VENDORS[readOr(join(dir, 'device/vendor')).trim()];
    if (!vendor || !readOr(join(dir, 'device/class')).trim().startsWith('0x03')) return undefined;
    return `${vendor} GPU ${readOr(join(dir, 'device/device')).trim()}`.trim();
  });
  if (drm.length > 0) return drm;
  // Device nodes alone (a container given /dev/nvidia0 but not the driver's /proc entries).
  const nodes = readEach(join(root, 'dev'), (_dir, name) => (/^nvidia\d+$/.test(name) ? 'NVIDIA GPU' : undefined));
  return nodes;
}

function readEach(folder: string, name: (dir: string, entry: string) => string | undefined): string[] {
  if (!existsSync(folder)) return [];
  let entries: string[];
  try {
    entries = readdirSync(folder).sort();
  } catch {
    return [];
  }
  return entries.map((entry) => name(join(folder, entry), entry)).filter((n): n is string => n !== undefined);
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
