// Package wmlog hands watermill a log/slog logger that stays quiet: its
// chatty lifecycle messages (Starting handler, ...) at debug, and no cost
// for the calls whose level is off.
//
// Contract: Info, Debug and Trace calls return before their fields are
// converted when the logger's level is off (the router logs at Trace
// twice per message); Error goes through as is.
package wmlog
