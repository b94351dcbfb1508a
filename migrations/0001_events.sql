-- Events posted to POST /events; the events job counts them (and sums their values) per type and minute.
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  value REAL,
  at INTEGER NOT NULL
);
CREATE INDEX events_by_time ON events (at, type);
