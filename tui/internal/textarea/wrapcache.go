package textarea

import "slices"

// wrapCache holds the soft wrap of lines, by their text and the width.
//
// It replaces upstream's memoization.MemoCache, which Update resized to
// MaxHeight entries (a handful) and keyed by the SHA-256 of the line
// formatted with fmt: in a draft of 1,500 lines every key wrapped every
// line anew several times (about 70 ms per key in dhtchat, more on a busy
// machine). Here the key is an FNV-1a hash of the runes, computed without
// allocating, the entry keeps a copy of the runes to compare (lines are
// edited in place), and the cache holds as many lines as a draft has.
type wrapCache struct {
	m       map[wrapKey]wrapEntry
	byIndex []indexEntry
}

type wrapKey struct {
	hash  uint64
	width int
}

type wrapEntry struct {
	runes []rune
	rows  [][]rune
}

// maxWrapCache bounds the cache: past it, it starts afresh.
const maxWrapCache = 4 * maxLines

func newWrapCache() *wrapCache { return &wrapCache{m: make(map[wrapKey]wrapEntry)} }

func hashRunes(rs []rune) uint64 {
	h := uint64(14695981039346656037)
	for _, r := range rs {
		h ^= uint64(r)
		h *= 1099511628211
	}
	return h
}

func (c *wrapCache) get(rs []rune, width int) ([][]rune, bool) {
	e, ok := c.m[wrapKey{hashRunes(rs), width}]
	if !ok || !slices.Equal(e.runes, rs) {
		return nil, false
	}
	return e.rows, true
}

func (c *wrapCache) set(rs []rune, width int, rows [][]rune) {
	if len(c.m) >= maxWrapCache {
		clear(c.m)
	}
	c.m[wrapKey{hashRunes(rs), width}] = wrapEntry{runes: slices.Clone(rs), rows: rows}
}

// The wraps of the lines by their index, too: the passes over the whole
// draft (the cursor's row, the number of rows, drawing) look each line up
// there first, by comparing its runes, which costs less than hashing them.
// A line edited, or moved to another index, misses and is looked up by
// hash.

func (c *wrapCache) at(i int, rs []rune, width int) ([][]rune, bool) {
	if i >= len(c.byIndex) {
		return nil, false
	}
	e := c.byIndex[i]
	if e.width != width || e.rows == nil || !slices.Equal(e.runes, rs) {
		return nil, false
	}
	return e.rows, true
}

func (c *wrapCache) setAt(i int, rs []rune, width int, rows [][]rune) {
	if i >= maxLines {
		return
	}
	for len(c.byIndex) <= i {
		c.byIndex = append(c.byIndex, indexEntry{})
	}
	c.byIndex[i] = indexEntry{width: width, runes: slices.Clone(rs), rows: rows}
}

type indexEntry struct {
	width int
	runes []rune
	rows  [][]rune
}

// wrapAt is the soft wrap of line i.
func (m *Model) wrapAt(i int) [][]rune {
	rs := m.value[i]
	if rows, ok := m.cache.at(i, rs, m.width); ok {
		return rows
	}
	rows := m.memoizedWrap(rs, m.width)
	m.cache.setAt(i, rs, m.width, rows)
	return rows
}
