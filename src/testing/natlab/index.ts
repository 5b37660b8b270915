export { createNatLab, LAB_PORT, type LabHost, type LabHostKind, type NatLab } from './lab.ts'
export { natRules, upnpForwards } from './router.ts'
