/** The RPC client, for `import { connect } from 'ptimer'`. */
export {
  connect,
  type ConnectOptions,
  type ConnectTarget,
  type ForceOption,
  type ParamsOf,
  type PTimerClient,
  type ResultOf,
} from './connect.js';
export type { ControlParams, ControlResult, ReloadResult, RpcMethodName, RpcMethods } from './types.js';
export { RPC_ERROR_CODES } from './types.js';
export { RpcCallError, RpcTransportError } from '../rpc/client.js';
