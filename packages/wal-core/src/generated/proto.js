/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const walpb = $root.walpb = (() => {

    /**
     * Namespace walpb.
     * @exports walpb
     * @namespace
     */
    const walpb = {};

    walpb.Record = (function() {

        /**
         * Properties of a Record.
         * @memberof walpb
         * @interface IRecord
         * @property {Long|null} [type] Record type
         * @property {number|null} [crc] Record crc
         * @property {Uint8Array|null} [data] Record data
         */

        /**
         * Constructs a new Record.
         * @memberof walpb
         * @classdesc Represents a Record.
         * @implements IRecord
         * @constructor
         * @param {walpb.IRecord=} [properties] Properties to set
         */
        function Record(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Record type.
         * @member {Long} type
         * @memberof walpb.Record
         * @instance
         */
        Record.prototype.type = $util.Long ? $util.Long.fromBits(0,0,false) : 0;

        /**
         * Record crc.
         * @member {number} crc
         * @memberof walpb.Record
         * @instance
         */
        Record.prototype.crc = 0;

        /**
         * Record data.
         * @member {Uint8Array} data
         * @memberof walpb.Record
         * @instance
         */
        Record.prototype.data = $util.newBuffer([]);

        /**
         * Creates a new Record instance using the specified properties.
         * @function create
         * @memberof walpb.Record
         * @static
         * @param {walpb.IRecord=} [properties] Properties to set
         * @returns {walpb.Record} Record instance
         */
        Record.create = function create(properties) {
            return new Record(properties);
        };

        /**
         * Encodes the specified Record message. Does not implicitly {@link walpb.Record.verify|verify} messages.
         * @function encode
         * @memberof walpb.Record
         * @static
         * @param {walpb.IRecord} message Record message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Record.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.type != null && Object.hasOwnProperty.call(message, "type"))
                writer.uint32(/* id 1, wireType 0 =*/8).int64(message.type);
            if (message.crc != null && Object.hasOwnProperty.call(message, "crc"))
                writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.crc);
            if (message.data != null && Object.hasOwnProperty.call(message, "data"))
                writer.uint32(/* id 3, wireType 2 =*/26).bytes(message.data);
            return writer;
        };

        /**
         * Decodes a Record message from the specified reader or buffer.
         * @function decode
         * @memberof walpb.Record
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {walpb.Record} Record
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Record.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.walpb.Record();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.type = reader.int64();
                        break;
                    }
                case 2: {
                        message.crc = reader.uint32();
                        break;
                    }
                case 3: {
                        message.data = reader.bytes();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return Record;
    })();

    walpb.Snapshot = (function() {

        /**
         * Properties of a Snapshot.
         * @memberof walpb
         * @interface ISnapshot
         * @property {Long|null} [index] Snapshot index
         * @property {Long|null} [term] Snapshot term
         * @property {raftpb.IConfState|null} [conf_state] Snapshot conf_state
         */

        /**
         * Constructs a new Snapshot.
         * @memberof walpb
         * @classdesc Represents a Snapshot.
         * @implements ISnapshot
         * @constructor
         * @param {walpb.ISnapshot=} [properties] Properties to set
         */
        function Snapshot(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Snapshot index.
         * @member {Long} index
         * @memberof walpb.Snapshot
         * @instance
         */
        Snapshot.prototype.index = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Snapshot term.
         * @member {Long} term
         * @memberof walpb.Snapshot
         * @instance
         */
        Snapshot.prototype.term = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Snapshot conf_state.
         * @member {raftpb.IConfState|null|undefined} conf_state
         * @memberof walpb.Snapshot
         * @instance
         */
        Snapshot.prototype.conf_state = null;

        /**
         * Creates a new Snapshot instance using the specified properties.
         * @function create
         * @memberof walpb.Snapshot
         * @static
         * @param {walpb.ISnapshot=} [properties] Properties to set
         * @returns {walpb.Snapshot} Snapshot instance
         */
        Snapshot.create = function create(properties) {
            return new Snapshot(properties);
        };

        /**
         * Encodes the specified Snapshot message. Does not implicitly {@link walpb.Snapshot.verify|verify} messages.
         * @function encode
         * @memberof walpb.Snapshot
         * @static
         * @param {walpb.ISnapshot} message Snapshot message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Snapshot.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.index != null && Object.hasOwnProperty.call(message, "index"))
                writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.index);
            if (message.term != null && Object.hasOwnProperty.call(message, "term"))
                writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.term);
            if (message.conf_state != null && Object.hasOwnProperty.call(message, "conf_state"))
                $root.raftpb.ConfState.encode(message.conf_state, writer.uint32(/* id 3, wireType 2 =*/26).fork(), q + 1).ldelim();
            return writer;
        };

        /**
         * Decodes a Snapshot message from the specified reader or buffer.
         * @function decode
         * @memberof walpb.Snapshot
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {walpb.Snapshot} Snapshot
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Snapshot.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.walpb.Snapshot();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.index = reader.uint64();
                        break;
                    }
                case 2: {
                        message.term = reader.uint64();
                        break;
                    }
                case 3: {
                        message.conf_state = $root.raftpb.ConfState.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return Snapshot;
    })();

    return walpb;
})();

export const raftpb = $root.raftpb = (() => {

    /**
     * Namespace raftpb.
     * @exports raftpb
     * @namespace
     */
    const raftpb = {};

    /**
     * EntryType enum.
     * @name raftpb.EntryType
     * @enum {number}
     * @property {number} EntryNormal=0 EntryNormal value
     * @property {number} EntryConfChange=1 EntryConfChange value
     * @property {number} EntryConfChangeV2=2 EntryConfChangeV2 value
     */
    raftpb.EntryType = (function() {
        const valuesById = {}, values = Object.create(valuesById);
        values[valuesById[0] = "EntryNormal"] = 0;
        values[valuesById[1] = "EntryConfChange"] = 1;
        values[valuesById[2] = "EntryConfChangeV2"] = 2;
        return values;
    })();

    raftpb.Entry = (function() {

        /**
         * Properties of an Entry.
         * @memberof raftpb
         * @interface IEntry
         * @property {Long|null} [Term] Entry Term
         * @property {Long|null} [Index] Entry Index
         * @property {raftpb.EntryType|null} [Type] Entry Type
         * @property {Uint8Array|null} [Data] Entry Data
         */

        /**
         * Constructs a new Entry.
         * @memberof raftpb
         * @classdesc Represents an Entry.
         * @implements IEntry
         * @constructor
         * @param {raftpb.IEntry=} [properties] Properties to set
         */
        function Entry(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * Entry Term.
         * @member {Long} Term
         * @memberof raftpb.Entry
         * @instance
         */
        Entry.prototype.Term = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Entry Index.
         * @member {Long} Index
         * @memberof raftpb.Entry
         * @instance
         */
        Entry.prototype.Index = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Entry Type.
         * @member {raftpb.EntryType} Type
         * @memberof raftpb.Entry
         * @instance
         */
        Entry.prototype.Type = 0;

        /**
         * Entry Data.
         * @member {Uint8Array} Data
         * @memberof raftpb.Entry
         * @instance
         */
        Entry.prototype.Data = $util.newBuffer([]);

        /**
         * Creates a new Entry instance using the specified properties.
         * @function create
         * @memberof raftpb.Entry
         * @static
         * @param {raftpb.IEntry=} [properties] Properties to set
         * @returns {raftpb.Entry} Entry instance
         */
        Entry.create = function create(properties) {
            return new Entry(properties);
        };

        /**
         * Encodes the specified Entry message. Does not implicitly {@link raftpb.Entry.verify|verify} messages.
         * @function encode
         * @memberof raftpb.Entry
         * @static
         * @param {raftpb.IEntry} message Entry message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Entry.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.Type != null && Object.hasOwnProperty.call(message, "Type"))
                writer.uint32(/* id 1, wireType 0 =*/8).int32(message.Type);
            if (message.Term != null && Object.hasOwnProperty.call(message, "Term"))
                writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.Term);
            if (message.Index != null && Object.hasOwnProperty.call(message, "Index"))
                writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.Index);
            if (message.Data != null && Object.hasOwnProperty.call(message, "Data"))
                writer.uint32(/* id 4, wireType 2 =*/34).bytes(message.Data);
            return writer;
        };

        /**
         * Decodes an Entry message from the specified reader or buffer.
         * @function decode
         * @memberof raftpb.Entry
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {raftpb.Entry} Entry
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Entry.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.raftpb.Entry();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 2: {
                        message.Term = reader.uint64();
                        break;
                    }
                case 3: {
                        message.Index = reader.uint64();
                        break;
                    }
                case 1: {
                        message.Type = reader.int32();
                        break;
                    }
                case 4: {
                        message.Data = reader.bytes();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return Entry;
    })();

    raftpb.HardState = (function() {

        /**
         * Properties of a HardState.
         * @memberof raftpb
         * @interface IHardState
         * @property {Long|null} [term] HardState term
         * @property {Long|null} [vote] HardState vote
         * @property {Long|null} [commit] HardState commit
         */

        /**
         * Constructs a new HardState.
         * @memberof raftpb
         * @classdesc Represents a HardState.
         * @implements IHardState
         * @constructor
         * @param {raftpb.IHardState=} [properties] Properties to set
         */
        function HardState(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * HardState term.
         * @member {Long} term
         * @memberof raftpb.HardState
         * @instance
         */
        HardState.prototype.term = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * HardState vote.
         * @member {Long} vote
         * @memberof raftpb.HardState
         * @instance
         */
        HardState.prototype.vote = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * HardState commit.
         * @member {Long} commit
         * @memberof raftpb.HardState
         * @instance
         */
        HardState.prototype.commit = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * Creates a new HardState instance using the specified properties.
         * @function create
         * @memberof raftpb.HardState
         * @static
         * @param {raftpb.IHardState=} [properties] Properties to set
         * @returns {raftpb.HardState} HardState instance
         */
        HardState.create = function create(properties) {
            return new HardState(properties);
        };

        /**
         * Encodes the specified HardState message. Does not implicitly {@link raftpb.HardState.verify|verify} messages.
         * @function encode
         * @memberof raftpb.HardState
         * @static
         * @param {raftpb.IHardState} message HardState message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        HardState.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.term != null && Object.hasOwnProperty.call(message, "term"))
                writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.term);
            if (message.vote != null && Object.hasOwnProperty.call(message, "vote"))
                writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.vote);
            if (message.commit != null && Object.hasOwnProperty.call(message, "commit"))
                writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.commit);
            return writer;
        };

        /**
         * Decodes a HardState message from the specified reader or buffer.
         * @function decode
         * @memberof raftpb.HardState
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {raftpb.HardState} HardState
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        HardState.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.raftpb.HardState();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.term = reader.uint64();
                        break;
                    }
                case 2: {
                        message.vote = reader.uint64();
                        break;
                    }
                case 3: {
                        message.commit = reader.uint64();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return HardState;
    })();

    raftpb.ConfState = (function() {

        /**
         * Properties of a ConfState.
         * @memberof raftpb
         * @interface IConfState
         * @property {Array.<Long>|null} [voters] ConfState voters
         * @property {Array.<Long>|null} [learners] ConfState learners
         * @property {Array.<Long>|null} [voters_outgoing] ConfState voters_outgoing
         * @property {Array.<Long>|null} [learners_next] ConfState learners_next
         * @property {boolean|null} [auto_leave] ConfState auto_leave
         */

        /**
         * Constructs a new ConfState.
         * @memberof raftpb
         * @classdesc Represents a ConfState.
         * @implements IConfState
         * @constructor
         * @param {raftpb.IConfState=} [properties] Properties to set
         */
        function ConfState(properties) {
            this.voters = [];
            this.learners = [];
            this.voters_outgoing = [];
            this.learners_next = [];
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * ConfState voters.
         * @member {Array.<Long>} voters
         * @memberof raftpb.ConfState
         * @instance
         */
        ConfState.prototype.voters = $util.emptyArray;

        /**
         * ConfState learners.
         * @member {Array.<Long>} learners
         * @memberof raftpb.ConfState
         * @instance
         */
        ConfState.prototype.learners = $util.emptyArray;

        /**
         * ConfState voters_outgoing.
         * @member {Array.<Long>} voters_outgoing
         * @memberof raftpb.ConfState
         * @instance
         */
        ConfState.prototype.voters_outgoing = $util.emptyArray;

        /**
         * ConfState learners_next.
         * @member {Array.<Long>} learners_next
         * @memberof raftpb.ConfState
         * @instance
         */
        ConfState.prototype.learners_next = $util.emptyArray;

        /**
         * ConfState auto_leave.
         * @member {boolean} auto_leave
         * @memberof raftpb.ConfState
         * @instance
         */
        ConfState.prototype.auto_leave = false;

        /**
         * Creates a new ConfState instance using the specified properties.
         * @function create
         * @memberof raftpb.ConfState
         * @static
         * @param {raftpb.IConfState=} [properties] Properties to set
         * @returns {raftpb.ConfState} ConfState instance
         */
        ConfState.create = function create(properties) {
            return new ConfState(properties);
        };

        /**
         * Encodes the specified ConfState message. Does not implicitly {@link raftpb.ConfState.verify|verify} messages.
         * @function encode
         * @memberof raftpb.ConfState
         * @static
         * @param {raftpb.IConfState} message ConfState message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ConfState.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.voters != null && message.voters.length)
                for (let i = 0; i < message.voters.length; ++i)
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.voters[i]);
            if (message.learners != null && message.learners.length)
                for (let i = 0; i < message.learners.length; ++i)
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.learners[i]);
            if (message.voters_outgoing != null && message.voters_outgoing.length)
                for (let i = 0; i < message.voters_outgoing.length; ++i)
                    writer.uint32(/* id 3, wireType 0 =*/24).uint64(message.voters_outgoing[i]);
            if (message.learners_next != null && message.learners_next.length)
                for (let i = 0; i < message.learners_next.length; ++i)
                    writer.uint32(/* id 4, wireType 0 =*/32).uint64(message.learners_next[i]);
            if (message.auto_leave != null && Object.hasOwnProperty.call(message, "auto_leave"))
                writer.uint32(/* id 5, wireType 0 =*/40).bool(message.auto_leave);
            return writer;
        };

        /**
         * Decodes a ConfState message from the specified reader or buffer.
         * @function decode
         * @memberof raftpb.ConfState
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {raftpb.ConfState} ConfState
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ConfState.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.raftpb.ConfState();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        if (!(message.voters && message.voters.length))
                            message.voters = [];
                        if ((tag & 7) === 2) {
                            let end2 = reader.uint32() + reader.pos;
                            if (end2 > reader.len)
                                throw RangeError("index out of range");
                            reader.len = end2;
                            while (reader.pos < end2)
                                message.voters.push(reader.uint64());
                            if (reader.pos !== end2)
                                throw RangeError("index out of range");
                            reader.len = end;
                        } else
                            message.voters.push(reader.uint64());
                        break;
                    }
                case 2: {
                        if (!(message.learners && message.learners.length))
                            message.learners = [];
                        if ((tag & 7) === 2) {
                            let end2 = reader.uint32() + reader.pos;
                            if (end2 > reader.len)
                                throw RangeError("index out of range");
                            reader.len = end2;
                            while (reader.pos < end2)
                                message.learners.push(reader.uint64());
                            if (reader.pos !== end2)
                                throw RangeError("index out of range");
                            reader.len = end;
                        } else
                            message.learners.push(reader.uint64());
                        break;
                    }
                case 3: {
                        if (!(message.voters_outgoing && message.voters_outgoing.length))
                            message.voters_outgoing = [];
                        if ((tag & 7) === 2) {
                            let end2 = reader.uint32() + reader.pos;
                            if (end2 > reader.len)
                                throw RangeError("index out of range");
                            reader.len = end2;
                            while (reader.pos < end2)
                                message.voters_outgoing.push(reader.uint64());
                            if (reader.pos !== end2)
                                throw RangeError("index out of range");
                            reader.len = end;
                        } else
                            message.voters_outgoing.push(reader.uint64());
                        break;
                    }
                case 4: {
                        if (!(message.learners_next && message.learners_next.length))
                            message.learners_next = [];
                        if ((tag & 7) === 2) {
                            let end2 = reader.uint32() + reader.pos;
                            if (end2 > reader.len)
                                throw RangeError("index out of range");
                            reader.len = end2;
                            while (reader.pos < end2)
                                message.learners_next.push(reader.uint64());
                            if (reader.pos !== end2)
                                throw RangeError("index out of range");
                            reader.len = end;
                        } else
                            message.learners_next.push(reader.uint64());
                        break;
                    }
                case 5: {
                        message.auto_leave = reader.bool();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return ConfState;
    })();

    return raftpb;
})();

export { $root as default };
