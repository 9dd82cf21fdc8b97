package live

// Streams returns how many event streams (browser tabs on the page, or
// any other client of GET /v1/events) are connected now. While it is 0
// the Hub keeps nothing. Safe for concurrent use.
func (h *Hub) Streams() int { return int(h.clients.Load()) }
