package codec

import "strings"

// TopicMatch reports whether topic matches pattern with AMQP topic-exchange
// semantics: both are split into words on '.', a pattern word "*" matches
// exactly one word, "#" zero or more words, any other word itself (case
// sensitive). The empty string has no words, so "#" matches "" and "*" does
// not; "a..b" has an empty middle word, which "*" matches. It allocates
// nothing and runs in O(len(pattern)*len(topic)) at worst.
func TopicMatch(pattern, topic string) bool {
	pp, tp := firstWord(pattern), firstWord(topic)
	starP, starT := -1, -1 // after the last "#" seen, and where it began in topic
	for tp <= len(topic) {
		if pp <= len(pattern) {
			pw, pnext := nextWord(pattern, pp)
			if pw == "#" {
				// Match zero words first; widen on a later mismatch.
				starP, starT, pp = pnext, tp, pnext
				continue
			}
			tw, tnext := nextWord(topic, tp)
			if pw == "*" || pw == tw {
				pp, tp = pnext, tnext
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, starT = nextWord(topic, starT)
		pp, tp = starP, starT
	}
	for pp <= len(pattern) {
		pw, pnext := nextWord(pattern, pp)
		if pw != "#" {
			return false
		}
		pp = pnext
	}
	return true
}

// firstWord is the position of s's first word: len(s)+1 (none) for "".
func firstWord(s string) int {
	if s == "" {
		return 1
	}
	return 0
}

// nextWord returns the word of s at position p and the position of the
// next; a position past len(s) means no word is left.
func nextWord(s string, p int) (string, int) {
	i := strings.IndexByte(s[p:], '.')
	if i < 0 {
		return s[p:], len(s) + 1
	}
	return s[p : p+i], p + i + 1
}
