"""Each member's private tools: filled-in worksheets, journal entries, voice notes.

Their owner's alone.  Only the library's own pages and the member's own data
download read them (an import-linter contract keeps every other package out);
no role sees them, the admin does not list them, screening records nothing of
them, and no log line carries what they say.  docs/library.md.
"""
