// Package textarea is bubbles' textarea (charm.land/bubbles/v2/textarea,
// v2.2.1, MIT licence: see LICENSE), copied to fix the cost of a key in a
// large draft: its cache of wrapped lines (wrapcache.go). Everything else
// is upstream's; the changes are marked. When upstream fixes it, dhtchat
// goes back to it.
package textarea
