// Type/kind -> record lookups for messages and options (no switches in the
// codec). The maps are rebuilt when configureNumbers() remaps a TBD number.

import { bindingError } from './messages/binding-error.js';
import { handoverAck } from './messages/handover-ack.js';
import { handoverInitiate } from './messages/handover-initiate.js';
import { heartbeat } from './messages/heartbeat.js';
import { pba } from './messages/pba.js';
import { pbu } from './messages/pbu.js';
import { shi } from './messages/shi.js';
import { shia } from './messages/shia.js';
import { updateNotificationAck } from './messages/update-notification-ack.js';
import { updateNotification } from './messages/update-notification.js';
import { numbersGeneration } from './numbers.js';
import { hnp, linkLocalAddress, primaryHoa } from './options/address.js';
import { flowId } from './options/flow-id.js';
import { pad1, padN } from './options/pad.js';
import { accessTechnologyType, bindingRefreshAdvice, handoffIndicator, multihoming, timestamp } from './options/simple.js';
import { bindingId, greKey, lmaAddress, mnId, mnLinkLayerId, unknownOption } from './options/variable.js';
import type { MessageKind, MessageRecord, MobilityOption, OptionKind, OptionRecord } from './types.js';

// Records are typed on their own value; the registry hands them out for the
// union, which is sound because lookups go by the value's own kind / type.
type AnyOption = OptionRecord<MobilityOption>;
type AnyMessage = MessageRecord<MessageKind>;

export const optionRecords: readonly AnyOption[] = [
  pad1, padN, bindingRefreshAdvice, mnId, hnp, handoffIndicator, accessTechnologyType, mnLinkLayerId,
  linkLocalAddress, timestamp, greKey, bindingId, lmaAddress, flowId, multihoming, primaryHoa,
] as unknown as AnyOption[];

export const messageRecords: readonly AnyMessage[] = [
  pbu, pba, bindingError, heartbeat, handoverInitiate, handoverAck, updateNotification, updateNotificationAck, shi, shia,
] as unknown as AnyMessage[];

export const unknownOptionRecord = unknownOption as unknown as AnyOption;

const optionByKindMap = new Map<OptionKind, AnyOption>();
for (const r of optionRecords) for (const k of r.kinds) optionByKindMap.set(k, r);
optionByKindMap.set('unknown', unknownOptionRecord);

const messageByKindMap = new Map<MessageKind, AnyMessage>();
for (const r of messageRecords) messageByKindMap.set(r.kind, r);

let builtFor = -1;
let optionByTypeMap = new Map<number, AnyOption>();
let messageByTypeMap = new Map<number, AnyMessage>();

function refresh(): void {
  if (builtFor === numbersGeneration()) return;
  optionByTypeMap = new Map(optionRecords.map((r) => [r.type, r]));
  messageByTypeMap = new Map(messageRecords.map((r) => [r.type, r]));
  builtFor = numbersGeneration();
}

export function optionByType(type: number): AnyOption | undefined {
  refresh();
  return optionByTypeMap.get(type);
}

export function messageByType(type: number): AnyMessage | undefined {
  refresh();
  return messageByTypeMap.get(type);
}

export function optionByKind(kind: string): AnyOption | undefined {
  return optionByKindMap.get(kind as OptionKind);
}

export function messageByKind(kind: string): AnyMessage | undefined {
  return messageByKindMap.get(kind as MessageKind);
}
