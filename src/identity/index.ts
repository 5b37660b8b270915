export { createDeviceSigner, type DeviceSigner } from './device-signer.ts'
export * from './keystore.ts'
export * from './views.ts'
