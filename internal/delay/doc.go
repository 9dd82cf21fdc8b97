// Package delay holds items until their time and then hands them on: the
// events a send's delay fault holds back, the stand-in operator's answers
// waiting for its actuation time.
//
// A Queue guarantees:
//   - an item is emitted at or after its due time, never before (unless
//     Close(true) asks for everything at once);
//   - items come out in order of due time; items due at the same time keep
//     the order they were held in (so a caller that never holds an item
//     due before one it held earlier keeps its order);
//   - every item held before Close is emitted once Run returns nil;
//   - items due together are emitted in one call of the emit function,
//     which Run calls from its own goroutine, one call at a time.
//
// Its methods are safe for concurrent use. It imports nothing of ours.
package delay
