#if PostgreSQL
import Lineup

/// The SQL schema of the PostgreSQL backend (POSTGRESQL.md describes it).
///
/// Every change goes through one of the functions below, each a single statement and so a
/// single transaction: it locks the collection's row, takes the collection's next change
/// number (`last_seq + 1`), writes, and announces `collection-id:number` on the channel
/// `lineup_changes` (delivered at commit). Because the row lock is held from the number to
/// the commit, a collection's numbers commit in order, and a reader that has applied every
/// change up to n misses nothing by asking for the rows numbered above n.
enum PostgresSchema {
    /// Key of the advisory lock held while creating the schema.
    static let advisoryLock: Int64 = 0x4C494E45_5550

    /// Version 1: collections, Faceprints, and the three changes.
    static let version1 = """
        CREATE TABLE lineup_schema (version integer NOT NULL);
        INSERT INTO lineup_schema VALUES (1);

        CREATE TABLE lineup_collections (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE,
            model text NOT NULL,
            compression text NOT NULL,
            dimension integer NOT NULL DEFAULT 0,
            last_seq bigint NOT NULL DEFAULT 0
        );

        CREATE TABLE lineup_faceprints (
            collection_id bigint NOT NULL REFERENCES lineup_collections (id) ON DELETE CASCADE,
            uuid uuid NOT NULL,
            identity bytea NOT NULL,
            vector bytea NOT NULL,
            scale real NOT NULL,
            seq bigint NOT NULL,
            removed_seq bigint,
            PRIMARY KEY (collection_id, uuid)
        );
        CREATE INDEX lineup_faceprints_by_seq ON lineup_faceprints (collection_id, seq);
        CREATE INDEX lineup_faceprints_by_removal ON lineup_faceprints (collection_id, removed_seq)
            WHERE removed_seq IS NOT NULL;
        CREATE INDEX lineup_faceprints_by_identity ON lineup_faceprints (collection_id, identity)
            WHERE removed_seq IS NULL;

        CREATE FUNCTION lineup_enroll(p_collection bigint, p_dimension integer, p_uuid uuid,
                                      p_identity bytea, p_vector bytea, p_scale real)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            c_dimension integer;
            c_seq bigint;
        BEGIN
            SELECT dimension, last_seq INTO c_dimension, c_seq
                FROM lineup_collections WHERE id = p_collection FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the collection was deleted' USING ERRCODE = 'LU003';
            END IF;
            IF c_dimension <> 0 AND c_dimension <> p_dimension THEN
                RAISE EXCEPTION 'the Faceprint has % dimensions; the collection holds %-dimensional vectors',
                    p_dimension, c_dimension USING ERRCODE = 'LU001';
            END IF;
            c_seq := c_seq + 1;
            INSERT INTO lineup_faceprints (collection_id, uuid, identity, vector, scale, seq)
                VALUES (p_collection, p_uuid, p_identity, p_vector, p_scale, c_seq);
            UPDATE lineup_collections SET dimension = p_dimension, last_seq = c_seq WHERE id = p_collection;
            PERFORM pg_notify('lineup_changes', p_collection || ':' || c_seq);
            RETURN c_seq;
        END $$;

        CREATE FUNCTION lineup_remove_uuid(p_collection bigint, p_uuid uuid)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            c_seq bigint;
        BEGIN
            SELECT last_seq INTO c_seq FROM lineup_collections WHERE id = p_collection FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the collection was deleted' USING ERRCODE = 'LU003';
            END IF;
            c_seq := c_seq + 1;
            UPDATE lineup_faceprints SET removed_seq = c_seq
                WHERE collection_id = p_collection AND uuid = p_uuid AND removed_seq IS NULL;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'no Faceprint has UUID %', p_uuid USING ERRCODE = 'LU002';
            END IF;
            UPDATE lineup_collections SET last_seq = c_seq WHERE id = p_collection;
            PERFORM pg_notify('lineup_changes', p_collection || ':' || c_seq);
            RETURN c_seq;
        END $$;

        CREATE FUNCTION lineup_remove_identity(p_collection bigint, p_identity bytea,
                                               OUT o_seq bigint, OUT o_removed integer)
        LANGUAGE plpgsql AS $$
        BEGIN
            SELECT last_seq INTO o_seq FROM lineup_collections WHERE id = p_collection FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the collection was deleted' USING ERRCODE = 'LU003';
            END IF;
            o_seq := o_seq + 1;
            UPDATE lineup_faceprints SET removed_seq = o_seq
                WHERE collection_id = p_collection AND identity = p_identity AND removed_seq IS NULL;
            GET DIAGNOSTICS o_removed = ROW_COUNT;
            IF o_removed = 0 THEN
                RAISE EXCEPTION 'no Faceprint has that identity' USING ERRCODE = 'LU002';
            END IF;
            UPDATE lineup_collections SET last_seq = o_seq WHERE id = p_collection;
            PERFORM pg_notify('lineup_changes', p_collection || ':' || o_seq);
        END $$;
        """

    /// From version 1 to version 2: a collection's calibrated match-probability curve
    /// (`curve`, NULL until calibrated) and the change that stores it, numbered and announced
    /// like the others so that every process applies it.
    static let upgradeTo2 = """
        ALTER TABLE lineup_collections ADD COLUMN curve bytea;

        CREATE FUNCTION lineup_calibrate(p_collection bigint, p_curve bytea)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            c_seq bigint;
        BEGIN
            SELECT last_seq INTO c_seq FROM lineup_collections WHERE id = p_collection FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the collection was deleted' USING ERRCODE = 'LU003';
            END IF;
            c_seq := c_seq + 1;
            UPDATE lineup_collections SET curve = p_curve, last_seq = c_seq WHERE id = p_collection;
            PERFORM pg_notify('lineup_changes', p_collection || ':' || c_seq);
            RETURN c_seq;
        END $$;

        UPDATE lineup_schema SET version = 2;
        """

    /// The stored form of a curve: f32 midpoint ‖ f32 steepness, little-endian (sealed in an
    /// encrypted database, ``PostgresCipher/sealCurve(_:collection:)``).
    static func curveBytes(_ curve: MatchProbability) -> [UInt8] {
        withUnsafeBytes(of: curve.midpoint.bitPattern.littleEndian) { Array($0) }
            + withUnsafeBytes(of: curve.steepness.bitPattern.littleEndian) { Array($0) }
    }

    /// The curve `bytes` holds.
    ///
    /// - Throws: `corruptStore` for anything but 8 bytes of a finite midpoint and a positive,
    ///   finite steepness.
    static func curve(_ bytes: [UInt8]) throws -> MatchProbability {
        guard bytes.count == 8 else {
            throw LineupError(.corruptStore, "a collection's calibration curve is \(bytes.count) bytes, not 8")
        }
        func f32(_ at: Int) -> Float {
            Float(bitPattern: bytes[at..<(at + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        let midpoint = f32(0), steepness = f32(4)
        guard midpoint.isFinite, steepness.isFinite, steepness > 0 else {
            throw LineupError(.corruptStore, "a collection's calibration curve is not a finite midpoint and a positive steepness")
        }
        return MatchProbability(midpoint: midpoint, steepness: steepness)
    }
}
#endif
