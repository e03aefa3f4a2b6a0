package tui

// welcomeView is what shows where no chat is open: that the chats are
// loading, how to open one, or, with none yet, how to start.
func (m *model) welcomeView(l layout) []string {
	st := m.c.styles
	if !m.listed {
		return []string{st.dim.Render("loading…")}
	}
	if len(m.list.items) > 0 {
		return []string{"No chat is open.", "", "  ctrl+n / ctrl+p   open one of your chats", "  /start NAME       start a new one"}
	}
	lines := []string{
		st.title.Render("Welcome to dhtchat."),
		"",
		"You have no chats yet. To start one:",
		"  /whoami          your key, to give a friend",
		"  /add NAME KEY    add a friend's key",
		"  /start NAME      start a chat with them",
		"  /respond NAME CHATKEY",
		"                   join the chat they started",
		"",
		st.dim.Render("/help: commands · f1: keys · ctrl+c: quit"),
	}
	return lines
}
