import Foundation
import GRDB

extension SQLiteConnection {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: documents, sections, references, findings, FTS5") { db in
            try db.execute(
                sql: """
                    CREATE TABLE documents (
                        id INTEGER PRIMARY KEY,
                        path TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        format TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
                        size INTEGER NOT NULL,
                        mtime_ns INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        content_hash TEXT NOT NULL,
                        title TEXT,
                        frontmatter TEXT,
                        anchors TEXT NOT NULL DEFAULT '[]',
                        line_count INTEGER NOT NULL,
                        tokens INTEGER NOT NULL CHECK (tokens >= 0),
                        import_depth INTEGER,
                        indexed_at TEXT NOT NULL
                    );
                    CREATE TABLE sections (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                        path TEXT NOT NULL,
                        ordinal INTEGER NOT NULL,
                        level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 6),
                        heading_path TEXT NOT NULL,
                        title TEXT NOT NULL,
                        slug TEXT NOT NULL,
                        start_line INTEGER NOT NULL,
                        end_line INTEGER NOT NULL CHECK (end_line >= start_line),
                        tier TEXT NOT NULL CHECK (tier IN ('essential', 'detailed', 'operational')),
                        tier_reason TEXT NOT NULL,
                        tokens INTEGER NOT NULL CHECK (tokens >= 0),
                        content_hash TEXT NOT NULL,
                        body TEXT NOT NULL,
                        UNIQUE (document_id, ordinal)
                    );
                    CREATE INDEX sections_by_document ON sections(document_id);
                    CREATE INDEX sections_by_hash ON sections(content_hash);
                    CREATE TABLE "references" (
                        id INTEGER PRIMARY KEY,
                        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        target TEXT NOT NULL,
                        resolved_path TEXT,
                        fragment TEXT,
                        status TEXT NOT NULL,
                        line INTEGER NOT NULL,
                        "column" INTEGER NOT NULL
                    );
                    CREATE INDEX references_by_document ON "references"(document_id);
                    CREATE INDEX references_by_target ON "references"(resolved_path);
                    CREATE TABLE findings (
                        id INTEGER PRIMARY KEY,
                        document_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
                        rule TEXT NOT NULL,
                        severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
                        path TEXT NOT NULL,
                        line INTEGER,
                        "column" INTEGER,
                        message TEXT NOT NULL
                    );
                    CREATE INDEX findings_by_document ON findings(document_id);
                    CREATE TABLE meta (
                        key TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    );
                    """)
            // External-content FTS5 over sections. Deletions and updates reach the index through
            // triggers; insertions are added in bulk at the end of each write (``apply(_:)``):
            // a trigger per inserted row cost ten times more than one INSERT ... SELECT. The update
            // trigger is for completeness: ctxmem never updates a section in place (a changed
            // file's sections are deleted and written again), which FTS5Rank's length cache relies on.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE sections_fts USING fts5(
                        path, heading_path, title, body,
                        content = 'sections', content_rowid = 'id', tokenize = 'ctxmem'
                    );
                    CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN
                        INSERT INTO sections_fts(sections_fts, rowid, path, heading_path, title, body)
                        VALUES ('delete', old.id, old.path, old.heading_path, old.title, old.body);
                    END;
                    CREATE TRIGGER sections_fts_update AFTER UPDATE ON sections BEGIN
                        INSERT INTO sections_fts(sections_fts, rowid, path, heading_path, title, body)
                        VALUES ('delete', old.id, old.path, old.heading_path, old.title, old.body);
                        INSERT INTO sections_fts(rowid, path, heading_path, title, body)
                        VALUES (new.id, new.path, new.heading_path, new.title, new.body);
                    END;
                    """)
            // FTS5 flushes pending terms to a new segment every `hashsize` bytes (1 MiB by
            // default); 32 MiB means fewer, larger segments for a cold index of a large tree.
            try db.execute(sql: "INSERT INTO sections_fts(sections_fts, rank) VALUES('hashsize', 33554432)")
        }
        // Every pack and `ctxmem agents` starts from the essential sections, a small share of all;
        // partial, so that no query filtering on other tiers (search --tier) is steered to it.
        migrator.registerMigration("v2: essential sections") { db in
            try db.execute(sql: "CREATE INDEX sections_essential ON sections(path, ordinal) WHERE tier = 'essential'")
        }
        migrator.registerMigration("v3: index id") { db in
            // Names this index file: generations start again when it is rebuilt, so whatever is
            // cached per generation (a server's packing state) is keyed by both.
            try db.execute(
                sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('index_id', lower(hex(randomblob(8))))")
        }
        // Heading paths as JSON arrays: joined with " > ", a title holding " > " was split in two
        // when read back. The full-text index keeps the joined text (through the view), so searches
        // and ranks are unchanged; the FTS5 table is made again over the view and rebuilt.
        migrator.registerMigration("v4: heading paths as JSON arrays") { db in
            try db.execute(
                sql: """
                    DROP TRIGGER sections_fts_delete;
                    DROP TRIGGER sections_fts_update;
                    DROP TABLE sections_fts;
                    UPDATE sections SET heading_path = ctxmem_heading_json(heading_path);
                    CREATE VIEW sections_text AS
                        SELECT id, path, ctxmem_heading_text(heading_path) AS heading_path, title, body FROM sections;
                    CREATE VIRTUAL TABLE sections_fts USING fts5(
                        path, heading_path, title, body,
                        content = 'sections_text', content_rowid = 'id', tokenize = 'ctxmem'
                    );
                    CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN
                        INSERT INTO sections_fts(sections_fts, rowid, path, heading_path, title, body)
                        VALUES ('delete', old.id, old.path, ctxmem_heading_text(old.heading_path), old.title, old.body);
                    END;
                    CREATE TRIGGER sections_fts_update AFTER UPDATE ON sections BEGIN
                        INSERT INTO sections_fts(sections_fts, rowid, path, heading_path, title, body)
                        VALUES ('delete', old.id, old.path, ctxmem_heading_text(old.heading_path), old.title, old.body);
                        INSERT INTO sections_fts(rowid, path, heading_path, title, body)
                        VALUES (new.id, new.path, ctxmem_heading_text(new.heading_path), new.title, new.body);
                    END;
                    INSERT INTO sections_fts(sections_fts, rank) VALUES ('hashsize', 33554432);
                    INSERT INTO sections_fts(sections_fts) VALUES ('rebuild');
                    """)
        }
        // The last commit time of each document (seconds since 1970; NULL without git or for a file
        // no commit has): a recency that is the same on every clone, unlike `mtime_ns`. Filled by
        // the next index run (the HEAD it was read at is the `git_head` value of `meta`).
        migrator.registerMigration("v5: commit times") { db in
            try db.execute(sql: "ALTER TABLE documents ADD COLUMN committed INTEGER")
        }
        return migrator
    }

    /// The schema as SQLite reports it, for the test that keeps `Schemas/index-schema.sql` current.
    func schemaDump() throws -> String {
        try read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT sql FROM sqlite_master
                    WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                    ORDER BY type DESC, name
                    """
            ).map { $0 + ";" }.joined(separator: "\n")
        }
    }
}
