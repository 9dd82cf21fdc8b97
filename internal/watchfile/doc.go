// Package watchfile calls a function when a file's content changes, and on
// every SIGHUP: the reload trigger of a config file mounted from a
// Kubernetes ConfigMap, edited in place, or replaced by an editor.
//
// Contract: Run watches the file's directory (a ConfigMap volume swaps a
// `..data` symlink, so a watch on the file would miss the update),
// debounces a burst of events into one look at the file, and calls
// Reload only when the content's digest differs from the last look.
// SIGHUP always calls Reload. Reload runs on Run's goroutine, one call at
// a time. A directory that cannot be watched is logged; SIGHUP still works.
package watchfile
