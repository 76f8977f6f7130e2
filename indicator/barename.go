package indicator

import "strings"

// fileTLDs are TLDs from xurls' lists that chat uses far more often as file
// extensions or local names than as domains: .zip and .mov archives and
// videos, .py, .sh, .pl, .rs, .md, .java, .cc, .so, .ps and .tf source,
// script and build files, .cab installers, and the pseudo-TLDs .exit,
// .local, .localhost and .bit, which public DNS does not resolve, plus
// .name, which in chat is mostly a field (user.name). A plain bare name
// ending in one is not a domain; a defanged one is.
//
// Real, common domain TLDs stay out of this list even where they double as
// extensions or member names (.info, .io, .ai, .app, .in, .ml, .id,
// .email): a name ending in one is judged by its shape instead, as
// plausiblePlainHost does for logger.info or user.email.
var fileTLDs = map[string]bool{
	"zip": true, "mov": true, "py": true, "sh": true, "rs": true, "md": true,
	"pl": true, "ps": true, "so": true, "java": true, "cc": true, "cab": true,
	"tf": true, "name": true, "exit": true, "local": true, "localhost": true,
	"bit": true,
}

// codeWords are identifiers that, as the first of two labels, mark a plain
// name as a method call or field access whatever the TLD (logger.info,
// os.exit, console.log).
var codeWords = map[string]bool{
	"log": true, "logger": true, "logging": true, "console": true, "self": true,
	"this": true, "os": true, "sys": true, "math": true, "json": true,
	"window": true, "document": true, "req": true, "res": true, "err": true,
	"ctx": true, "obj": true, "fmt": true, "np": true, "pd": true, "plt": true,
	"config": true, "settings": true, "args": true,
	"module": true, "exports": true, "process": true, "util": true,
	"utils": true, "cmd": true,
}

// memberTLDs are real TLDs that are also common field and method names.
// Before one of them, a first label in receiverWords reads as code
// (user.email, item.id, event.date), while other names stay domains
// (paypal-login.email, evil.info).
var memberTLDs = map[string]bool{
	"info": true, "id": true, "email": true, "link": true, "host": true,
	"date": true, "now": true, "new": true, "map": true, "run": true,
	"call": true, "show": true, "save": true, "read": true, "style": true,
	"page": true, "events": true, "properties": true,
}

// receiverWords are variable names that code puts before a field or method.
var receiverWords = map[string]bool{
	"user": true, "users": true, "item": true, "items": true, "data": true,
	"event": true, "evt": true, "e": true, "el": true, "elem": true,
	"element": true, "node": true, "row": true, "record": true, "entry": true,
	"file": true, "msg": true, "message": true, "client": true,
	"server": true, "request": true, "response": true, "resp": true,
	"result": true, "model": true, "props": true, "state": true,
	"context": true, "opts": true, "options": true, "params": true,
	"job": true, "task": true, "session": true, "account": true,
	"order": true, "post": true, "doc": true, "target": true, "app": true,
}

// fileStems are file names that take a suffix named like a TLD in build
// trees: Makefile.in, Makefile.am, configure.ac, Dockerfile.dev.
var fileStems = map[string]bool{
	"makefile": true, "dockerfile": true, "containerfile": true,
	"vagrantfile": true, "gemfile": true, "procfile": true,
	"jenkinsfile": true, "rakefile": true, "configure": true,
	"cmakelists": true, "readme": true, "license": true, "changelog": true,
	"requirements": true,
}

// reverseDNSRoots are the labels that start a reverse-DNS package or
// bundle name (com.example.app, io.github.user.tool). Host names that start
// with them are rare.
var reverseDNSRoots = map[string]bool{
	"com": true, "org": true, "net": true, "io": true, "edu": true, "gov": true,
}

// plausiblePlainHost applies the extra checks for a name that was neither
// defanged nor written with a scheme: raw is the name as written, host its
// normalised form and next the character after it. The package doc lists
// the checks.
func plausiblePlainHost(raw, host string, next byte) bool {
	if next == '(' {
		return false
	}
	tld := lastLabel(host)
	if fileTLDs[tld] {
		return false
	}

	labels := strings.Split(strings.TrimSuffix(raw, "."), ".")
	first := strings.ToLower(labels[0])
	if len(labels) == 2 && readsAsCode(labels[0], first, tld) {
		return false
	}
	if len(labels) >= 3 && reverseDNSRoots[first] {
		return false
	}
	if strings.IndexByte(labels[len(labels)-2], '_') >= 0 {
		// A registrable label cannot contain '_': my_logger.info is code.
		return false
	}
	for i, label := range labels {
		if i == 0 {
			continue
		}
		if strings.EqualFold(label, "prototype") {
			return false
		}
		top := i == len(labels)-1
		// A path after the name (Example.Org/Path) is evidence enough for
		// a mixed-case top-level label, but not for a camelCase one.
		if isCamelOrTitle(label, top && next != '/') {
			return false
		}
	}
	return true
}

// readsAsCode reports whether a two-label name whose first label is label
// (lower-cased in first) and whose TLD is tld reads as code or a file name:
// logger.info, user.email, Makefile.in, Safari.app.
func readsAsCode(label, first, tld string) bool {
	switch {
	case codeWords[first], fileStems[first]:
		return true
	case memberTLDs[tld] && receiverWords[first]:
		return true
	case tld == "app" && isTitleWord(label):
		// A macOS application bundle: Safari.app, Notes.app.
		return true
	}
	return false
}

// isTitleWord reports whether s is an upper-case ASCII letter followed by
// one or more lower-case ones.
func isTitleWord(s string) bool {
	if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// isCamelOrTitle reports whether label reads like an identifier or a word
// that starts a sentence: an upper-case letter after a lower-case one or,
// for the top-level label, any mix of cases.
func isCamelOrTitle(label string, top bool) bool {
	hasUpper, hasLower := false, false
	for i := 0; i < len(label); i++ {
		c := label[i]
		switch {
		case 'A' <= c && c <= 'Z':
			if hasLower {
				return true
			}
			hasUpper = true
		case 'a' <= c && c <= 'z':
			hasLower = true
		}
	}
	return top && hasUpper && hasLower
}
