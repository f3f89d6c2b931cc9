/** Which compute device the user asked for (setting `kestrel.device`). Import-free so every bundle can use it. */
export const DEVICE_SETTINGS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'] as const;
export type DeviceSetting = (typeof DEVICE_SETTINGS)[number];
