import * as $protobuf from "protobufjs";
import Long = require("long");
/** Namespace walpb. */
export namespace walpb {

    /** Properties of a Record. */
    interface IRecord {

        /** Record type */
        type?: (Long|null);

        /** Record crc */
        crc?: (number|null);

        /** Record data */
        data?: (Uint8Array|null);
    }

    /** Represents a Record. */
    class Record implements IRecord {

        /**
         * Constructs a new Record.
         * @param [properties] Properties to set
         */
        constructor(properties?: walpb.IRecord);

        /** Record type. */
        public type: Long;

        /** Record crc. */
        public crc: number;

        /** Record data. */
        public data: Uint8Array;

        /**
         * Creates a new Record instance using the specified properties.
         * @param [properties] Properties to set
         * @returns Record instance
         */
        public static create(properties?: walpb.IRecord): walpb.Record;

        /**
         * Encodes the specified Record message. Does not implicitly {@link walpb.Record.verify|verify} messages.
         * @param message Record message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: walpb.IRecord, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Record message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns Record
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): walpb.Record;
    }

    /** Properties of a Snapshot. */
    interface ISnapshot {

        /** Snapshot index */
        index?: (Long|null);

        /** Snapshot term */
        term?: (Long|null);

        /** Snapshot conf_state */
        conf_state?: (raftpb.IConfState|null);
    }

    /** Represents a Snapshot. */
    class Snapshot implements ISnapshot {

        /**
         * Constructs a new Snapshot.
         * @param [properties] Properties to set
         */
        constructor(properties?: walpb.ISnapshot);

        /** Snapshot index. */
        public index: Long;

        /** Snapshot term. */
        public term: Long;

        /** Snapshot conf_state. */
        public conf_state?: (raftpb.IConfState|null);

        /**
         * Creates a new Snapshot instance using the specified properties.
         * @param [properties] Properties to set
         * @returns Snapshot instance
         */
        public static create(properties?: walpb.ISnapshot): walpb.Snapshot;

        /**
         * Encodes the specified Snapshot message. Does not implicitly {@link walpb.Snapshot.verify|verify} messages.
         * @param message Snapshot message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: walpb.ISnapshot, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a Snapshot message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns Snapshot
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): walpb.Snapshot;
    }
}

/** Namespace raftpb. */
export namespace raftpb {

    /** EntryType enum. */
    enum EntryType {
        EntryNormal = 0,
        EntryConfChange = 1,
        EntryConfChangeV2 = 2
    }

    /** Properties of an Entry. */
    interface IEntry {

        /** Entry Term */
        Term?: (Long|null);

        /** Entry Index */
        Index?: (Long|null);

        /** Entry Type */
        Type?: (raftpb.EntryType|null);

        /** Entry Data */
        Data?: (Uint8Array|null);
    }

    /** Represents an Entry. */
    class Entry implements IEntry {

        /**
         * Constructs a new Entry.
         * @param [properties] Properties to set
         */
        constructor(properties?: raftpb.IEntry);

        /** Entry Term. */
        public Term: Long;

        /** Entry Index. */
        public Index: Long;

        /** Entry Type. */
        public Type: raftpb.EntryType;

        /** Entry Data. */
        public Data: Uint8Array;

        /**
         * Creates a new Entry instance using the specified properties.
         * @param [properties] Properties to set
         * @returns Entry instance
         */
        public static create(properties?: raftpb.IEntry): raftpb.Entry;

        /**
         * Encodes the specified Entry message. Does not implicitly {@link raftpb.Entry.verify|verify} messages.
         * @param message Entry message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: raftpb.IEntry, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes an Entry message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns Entry
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): raftpb.Entry;
    }

    /** Properties of a HardState. */
    interface IHardState {

        /** HardState term */
        term?: (Long|null);

        /** HardState vote */
        vote?: (Long|null);

        /** HardState commit */
        commit?: (Long|null);
    }

    /** Represents a HardState. */
    class HardState implements IHardState {

        /**
         * Constructs a new HardState.
         * @param [properties] Properties to set
         */
        constructor(properties?: raftpb.IHardState);

        /** HardState term. */
        public term: Long;

        /** HardState vote. */
        public vote: Long;

        /** HardState commit. */
        public commit: Long;

        /**
         * Creates a new HardState instance using the specified properties.
         * @param [properties] Properties to set
         * @returns HardState instance
         */
        public static create(properties?: raftpb.IHardState): raftpb.HardState;

        /**
         * Encodes the specified HardState message. Does not implicitly {@link raftpb.HardState.verify|verify} messages.
         * @param message HardState message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: raftpb.IHardState, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a HardState message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns HardState
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): raftpb.HardState;
    }

    /** Properties of a ConfState. */
    interface IConfState {

        /** ConfState voters */
        voters?: (Long[]|null);

        /** ConfState learners */
        learners?: (Long[]|null);

        /** ConfState voters_outgoing */
        voters_outgoing?: (Long[]|null);

        /** ConfState learners_next */
        learners_next?: (Long[]|null);

        /** ConfState auto_leave */
        auto_leave?: (boolean|null);
    }

    /** Represents a ConfState. */
    class ConfState implements IConfState {

        /**
         * Constructs a new ConfState.
         * @param [properties] Properties to set
         */
        constructor(properties?: raftpb.IConfState);

        /** ConfState voters. */
        public voters: Long[];

        /** ConfState learners. */
        public learners: Long[];

        /** ConfState voters_outgoing. */
        public voters_outgoing: Long[];

        /** ConfState learners_next. */
        public learners_next: Long[];

        /** ConfState auto_leave. */
        public auto_leave: boolean;

        /**
         * Creates a new ConfState instance using the specified properties.
         * @param [properties] Properties to set
         * @returns ConfState instance
         */
        public static create(properties?: raftpb.IConfState): raftpb.ConfState;

        /**
         * Encodes the specified ConfState message. Does not implicitly {@link raftpb.ConfState.verify|verify} messages.
         * @param message ConfState message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: raftpb.IConfState, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ConfState message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns ConfState
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): raftpb.ConfState;
    }
}
