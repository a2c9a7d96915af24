/**
 * Display schemas of the payloads etcd stores in WAL entries, transcribed from etcd's `.proto` files
 * (field numbers and names exactly as there; see `proto.ts` for why they are tables and not protobufjs):
 *
 * - raftpb `ConfChange`, `ConfChangeV2`, `ConfChangeSingle`: go.etcd.io/raft `raftpb/raft.proto`
 * - `etcdserverpb.InternalRaftRequest`, `RequestHeader`, `InternalAuthenticateRequest`: `api/etcdserverpb/raft_internal.proto`
 * - the KV, lease, alarm and auth requests: `api/etcdserverpb/rpc.proto`
 * - `authpb.Permission`, `UserAddOptions`: `api/authpb/auth.proto`
 * - `membershippb.*`: `api/membershippb/membership.proto` (etcd 3.5+)
 * - `etcdserverpb.Metadata` and the legacy v2 `etcdserverpb.Request`: `api/etcdserverpb/etcdserver.proto` (3.4)
 */
import type { FieldSchema, MessageSchema } from './proto.js';

const f = (no: number, name: string, type: FieldSchema['type'], extra: Partial<FieldSchema> = {}): FieldSchema => ({
  no,
  name,
  type,
  ...extra,
});
const msg = (no: number, name: string, message: () => MessageSchema, repeated = false): FieldSchema =>
  f(no, name, 'message', { message, repeated });

/** raftpb.ConfChangeType. */
export const CONF_CHANGE_TYPE: Readonly<Record<number, string>> = {
  0: 'ConfChangeAddNode',
  1: 'ConfChangeRemoveNode',
  2: 'ConfChangeUpdateNode',
  3: 'ConfChangeAddLearnerNode',
};

/** raftpb.ConfChangeTransition. */
const CONF_CHANGE_TRANSITION: Readonly<Record<number, string>> = {
  0: 'ConfChangeTransitionAuto',
  1: 'ConfChangeTransitionJointImplicit',
  2: 'ConfChangeTransitionJointExplicit',
};

/** raftpb.ConfChange (proto2): `optional uint64 id = 1; type = 2; node_id = 3; bytes context = 4`. */
export const ConfChange: MessageSchema = {
  name: 'raftpb.ConfChange',
  fields: [
    f(1, 'id', 'uint64'),
    f(2, 'type', 'enum', { enumValues: CONF_CHANGE_TYPE }),
    f(3, 'node_id', 'uint64'),
    f(4, 'context', 'bytes'),
  ],
};

/** raftpb.ConfChangeSingle: `type = 1; node_id = 2`. */
export const ConfChangeSingle: MessageSchema = {
  name: 'raftpb.ConfChangeSingle',
  fields: [f(1, 'type', 'enum', { enumValues: CONF_CHANGE_TYPE }), f(2, 'node_id', 'uint64')],
};

/** raftpb.ConfChangeV2: `transition = 1; repeated ConfChangeSingle changes = 2; bytes context = 3`. */
export const ConfChangeV2: MessageSchema = {
  name: 'raftpb.ConfChangeV2',
  fields: [
    f(1, 'transition', 'enum', { enumValues: CONF_CHANGE_TRANSITION }),
    msg(2, 'changes', () => ConfChangeSingle, true),
    f(3, 'context', 'bytes'),
  ],
};

/** etcdserverpb.Metadata (the WAL's metadata record in an etcd member): `NodeID = 1; ClusterID = 2`. */
export const Metadata: MessageSchema = {
  name: 'etcdserverpb.Metadata',
  fields: [f(1, 'NodeID', 'uint64'), f(2, 'ClusterID', 'uint64')],
};

/** The legacy v2 etcdserverpb.Request (etcdserver.proto, etcd ≤ 3.4; 3.4 still proposes member attributes and the cluster version with it). */
export const RequestV2: MessageSchema = {
  name: 'etcdserverpb.Request',
  fields: [
    f(1, 'ID', 'uint64'),
    f(2, 'Method', 'string'),
    f(3, 'Path', 'string'),
    f(4, 'Val', 'string'),
    f(5, 'Dir', 'bool'),
    f(6, 'PrevValue', 'string'),
    f(7, 'PrevIndex', 'uint64'),
    f(8, 'PrevExist', 'bool'),
    f(9, 'Expiration', 'int64'),
    f(10, 'Wait', 'bool'),
    f(11, 'Since', 'uint64'),
    f(12, 'Recursive', 'bool'),
    f(13, 'Sorted', 'bool'),
    f(14, 'Quorum', 'bool'),
    f(15, 'Time', 'int64'),
    f(16, 'Stream', 'bool'),
    f(17, 'Refresh', 'bool'),
  ],
};

// --- rpc.proto ------------------------------------------------------------------------------------

const RangeRequest: MessageSchema = {
  name: 'etcdserverpb.RangeRequest',
  fields: [
    f(1, 'key', 'bytes'),
    f(2, 'range_end', 'bytes'),
    f(3, 'limit', 'int64'),
    f(4, 'revision', 'int64'),
    f(5, 'sort_order', 'enum', { enumValues: { 0: 'NONE', 1: 'ASCEND', 2: 'DESCEND' } }),
    f(6, 'sort_target', 'enum', { enumValues: { 0: 'KEY', 1: 'VERSION', 2: 'CREATE', 3: 'MOD', 4: 'VALUE' } }),
    f(7, 'serializable', 'bool'),
    f(8, 'keys_only', 'bool'),
    f(9, 'count_only', 'bool'),
    f(10, 'min_mod_revision', 'int64'),
    f(11, 'max_mod_revision', 'int64'),
    f(12, 'min_create_revision', 'int64'),
    f(13, 'max_create_revision', 'int64'),
  ],
};

const PutRequest: MessageSchema = {
  name: 'etcdserverpb.PutRequest',
  fields: [
    f(1, 'key', 'bytes'),
    f(2, 'value', 'bytes'),
    f(3, 'lease', 'int64'),
    f(4, 'prev_kv', 'bool'),
    f(5, 'ignore_value', 'bool'),
    f(6, 'ignore_lease', 'bool'),
  ],
};

const DeleteRangeRequest: MessageSchema = {
  name: 'etcdserverpb.DeleteRangeRequest',
  fields: [f(1, 'key', 'bytes'), f(2, 'range_end', 'bytes'), f(3, 'prev_kv', 'bool')],
};

const RequestOp: MessageSchema = {
  name: 'etcdserverpb.RequestOp',
  fields: [
    msg(1, 'request_range', () => RangeRequest),
    msg(2, 'request_put', () => PutRequest),
    msg(3, 'request_delete_range', () => DeleteRangeRequest),
    msg(4, 'request_txn', () => TxnRequest),
  ],
};

const Compare: MessageSchema = {
  name: 'etcdserverpb.Compare',
  fields: [
    f(1, 'result', 'enum', { enumValues: { 0: 'EQUAL', 1: 'GREATER', 2: 'LESS', 3: 'NOT_EQUAL' } }),
    f(2, 'target', 'enum', { enumValues: { 0: 'VERSION', 1: 'CREATE', 2: 'MOD', 3: 'VALUE', 4: 'LEASE' } }),
    f(3, 'key', 'bytes'),
    f(4, 'version', 'int64'),
    f(5, 'create_revision', 'int64'),
    f(6, 'mod_revision', 'int64'),
    f(7, 'value', 'bytes'),
    f(8, 'lease', 'int64'),
    f(64, 'range_end', 'bytes'),
  ],
};

const TxnRequest: MessageSchema = {
  name: 'etcdserverpb.TxnRequest',
  fields: [msg(1, 'compare', () => Compare, true), msg(2, 'success', () => RequestOp, true), msg(3, 'failure', () => RequestOp, true)],
};

const CompactionRequest: MessageSchema = {
  name: 'etcdserverpb.CompactionRequest',
  fields: [f(1, 'revision', 'int64'), f(2, 'physical', 'bool')],
};

const LeaseGrantRequest: MessageSchema = { name: 'etcdserverpb.LeaseGrantRequest', fields: [f(1, 'TTL', 'int64'), f(2, 'ID', 'int64')] };
const LeaseRevokeRequest: MessageSchema = { name: 'etcdserverpb.LeaseRevokeRequest', fields: [f(1, 'ID', 'int64')] };
const LeaseCheckpoint: MessageSchema = {
  name: 'etcdserverpb.LeaseCheckpoint',
  fields: [f(1, 'ID', 'int64'), f(2, 'remaining_TTL', 'int64')],
};
const LeaseCheckpointRequest: MessageSchema = {
  name: 'etcdserverpb.LeaseCheckpointRequest',
  fields: [msg(1, 'checkpoints', () => LeaseCheckpoint, true)],
};

const AlarmRequest: MessageSchema = {
  name: 'etcdserverpb.AlarmRequest',
  fields: [
    f(1, 'action', 'enum', { enumValues: { 0: 'GET', 1: 'ACTIVATE', 2: 'DEACTIVATE' } }),
    f(2, 'memberID', 'uint64'),
    f(3, 'alarm', 'enum', { enumValues: { 0: 'NONE', 1: 'NOSPACE', 2: 'CORRUPT' } }),
  ],
};

const empty = (name: string): MessageSchema => ({ name: `etcdserverpb.${name}`, fields: [] });
const UserAddOptions: MessageSchema = { name: 'authpb.UserAddOptions', fields: [f(1, 'no_password', 'bool')] };
const Permission: MessageSchema = {
  name: 'authpb.Permission',
  fields: [
    f(1, 'permType', 'enum', { enumValues: { 0: 'READ', 1: 'WRITE', 2: 'READWRITE' } }),
    f(2, 'key', 'bytes'),
    f(3, 'range_end', 'bytes'),
  ],
};
const AuthUserAddRequest: MessageSchema = {
  name: 'etcdserverpb.AuthUserAddRequest',
  fields: [f(1, 'name', 'string'), f(2, 'password', 'string'), msg(3, 'options', () => UserAddOptions), f(4, 'hashedPassword', 'string')],
};
const nameOnly = (name: string, field = 'name'): MessageSchema => ({ name: `etcdserverpb.${name}`, fields: [f(1, field, 'string')] });
const AuthUserChangePasswordRequest: MessageSchema = {
  name: 'etcdserverpb.AuthUserChangePasswordRequest',
  fields: [f(1, 'name', 'string'), f(2, 'password', 'string'), f(3, 'hashedPassword', 'string')],
};
const AuthUserGrantRoleRequest: MessageSchema = {
  name: 'etcdserverpb.AuthUserGrantRoleRequest',
  fields: [f(1, 'user', 'string'), f(2, 'role', 'string')],
};
const AuthUserRevokeRoleRequest: MessageSchema = {
  name: 'etcdserverpb.AuthUserRevokeRoleRequest',
  fields: [f(1, 'name', 'string'), f(2, 'role', 'string')],
};
const AuthRoleGrantPermissionRequest: MessageSchema = {
  name: 'etcdserverpb.AuthRoleGrantPermissionRequest',
  fields: [f(1, 'name', 'string'), msg(2, 'perm', () => Permission)],
};
const AuthRoleRevokePermissionRequest: MessageSchema = {
  name: 'etcdserverpb.AuthRoleRevokePermissionRequest',
  fields: [f(1, 'role', 'string'), f(2, 'key', 'bytes'), f(3, 'range_end', 'bytes')],
};
const InternalAuthenticateRequest: MessageSchema = {
  name: 'etcdserverpb.InternalAuthenticateRequest',
  fields: [f(1, 'name', 'string'), f(2, 'password', 'string'), f(3, 'simple_token', 'string')],
};

// --- membership.proto (etcd 3.5+) ---------------------------------------------------------------------

const ClusterVersionSetRequest: MessageSchema = { name: 'membershippb.ClusterVersionSetRequest', fields: [f(1, 'ver', 'string')] };
const Attributes: MessageSchema = {
  name: 'membershippb.Attributes',
  fields: [f(1, 'name', 'string'), f(2, 'client_urls', 'string', { repeated: true })],
};
const ClusterMemberAttrSetRequest: MessageSchema = {
  name: 'membershippb.ClusterMemberAttrSetRequest',
  fields: [f(1, 'member_ID', 'uint64'), msg(2, 'member_attributes', () => Attributes)],
};
const DowngradeInfoSetRequest: MessageSchema = {
  name: 'membershippb.DowngradeInfoSetRequest',
  fields: [f(1, 'enabled', 'bool'), f(2, 'ver', 'string')],
};

// --- raft_internal.proto --------------------------------------------------------------------------------

/** etcdserverpb.RequestHeader: `ID = 1; username = 2; auth_revision = 3; requester_member_id = 4` (3.7). */
const RequestHeader: MessageSchema = {
  name: 'etcdserverpb.RequestHeader',
  fields: [f(1, 'ID', 'uint64'), f(2, 'username', 'string'), f(3, 'auth_revision', 'uint64'), f(4, 'requester_member_id', 'uint64')],
};

/**
 * The request fields of etcdserverpb.InternalRaftRequest, by field number (raft_internal.proto).
 * Field 2 (`Request v2`) is the 3.4 form of the legacy request and `reserved` in 3.6.
 */
export const INTERNAL_RAFT_REQUEST_FIELDS: readonly FieldSchema[] = [
  msg(2, 'v2', () => RequestV2),
  msg(3, 'range', () => RangeRequest),
  msg(4, 'put', () => PutRequest),
  msg(5, 'delete_range', () => DeleteRangeRequest),
  msg(6, 'txn', () => TxnRequest),
  msg(7, 'compaction', () => CompactionRequest),
  msg(8, 'lease_grant', () => LeaseGrantRequest),
  msg(9, 'lease_revoke', () => LeaseRevokeRequest),
  msg(10, 'alarm', () => AlarmRequest),
  msg(11, 'lease_checkpoint', () => LeaseCheckpointRequest),
  msg(1000, 'auth_enable', () => empty('AuthEnableRequest')),
  msg(1011, 'auth_disable', () => empty('AuthDisableRequest')),
  msg(1013, 'auth_status', () => empty('AuthStatusRequest')),
  msg(1012, 'authenticate', () => InternalAuthenticateRequest),
  msg(1100, 'auth_user_add', () => AuthUserAddRequest),
  msg(1101, 'auth_user_delete', () => nameOnly('AuthUserDeleteRequest')),
  msg(1102, 'auth_user_get', () => nameOnly('AuthUserGetRequest')),
  msg(1103, 'auth_user_change_password', () => AuthUserChangePasswordRequest),
  msg(1104, 'auth_user_grant_role', () => AuthUserGrantRoleRequest),
  msg(1105, 'auth_user_revoke_role', () => AuthUserRevokeRoleRequest),
  msg(1106, 'auth_user_list', () => empty('AuthUserListRequest')),
  msg(1107, 'auth_role_list', () => empty('AuthRoleListRequest')),
  msg(1200, 'auth_role_add', () => nameOnly('AuthRoleAddRequest')),
  msg(1201, 'auth_role_delete', () => nameOnly('AuthRoleDeleteRequest', 'role')),
  msg(1202, 'auth_role_get', () => nameOnly('AuthRoleGetRequest', 'role')),
  msg(1203, 'auth_role_grant_permission', () => AuthRoleGrantPermissionRequest),
  msg(1204, 'auth_role_revoke_permission', () => AuthRoleRevokePermissionRequest),
  msg(1300, 'cluster_version_set', () => ClusterVersionSetRequest),
  msg(1301, 'cluster_member_attr_set', () => ClusterMemberAttrSetRequest),
  msg(1302, 'downgrade_info_set', () => DowngradeInfoSetRequest),
  msg(9900, 'downgrade_version_test', () => nameOnly('DowngradeVersionTestRequest', 'ver')),
];

/** etcdserverpb.InternalRaftRequest: `RequestHeader header = 100; uint64 ID = 1;` and one request field. */
export const InternalRaftRequest: MessageSchema = {
  name: 'etcdserverpb.InternalRaftRequest',
  fields: [msg(100, 'header', () => RequestHeader), f(1, 'ID', 'uint64'), ...INTERNAL_RAFT_REQUEST_FIELDS],
};
