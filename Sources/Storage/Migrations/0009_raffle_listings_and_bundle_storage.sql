-- The ten-million-entry raffle, continued (issue 20).

-- The stored audit bundle's chunks are kept uncompressed (STORAGE EXTERNAL: out of line in
-- TOAST, no pglz). pglz on 1 MiB chunks of JSON digits was the largest part of the close's
-- commit at ten million entries (docs/benchmarks.md); the bundle is compressed on the wire when
-- a client accepts gzip, and served from here chunk by chunk, so its size at rest costs disk
-- only (about 12 bytes per entry). Applies to chunks written from now on.
ALTER TABLE audit_bundle_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
