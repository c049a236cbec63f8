package gamify

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf8"
)

// entryDecoder reads ledger entries of the second layout straight from
// their BSON for a rebuild: the driver's reflection and encoding/json took
// two thirds of what adding an entry to every board takes
// (docs/PERFORMANCE.md, "entry decoding"). It takes only what
// toEntryDoc writes: the fields of entryDoc as strings, integers and a
// date, and a boards string exactly as encoding/json wrote it (no escapes,
// no spaces, integers only). Anything else, the first layout included, it
// leaves to the general decoding, so that both always agree (fuzzed by
// FuzzEntryDecoderAgrees).
//
// Strings that entries share (reasons, names, units, campaigns) are
// interned, so the rebuild does not allocate each anew.
type entryDecoder struct {
	strs map[string]string
}

const internMax = 1 << 16 // strings kept before the table starts over

func (d *entryDecoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	if d.strs == nil || len(d.strs) >= internMax {
		d.strs = make(map[string]string, 1024)
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// decode returns the entry and true, or false when raw is not what it
// reads.
func (d *entryDecoder) decode(raw []byte) (e Entry, ok bool) {
	if len(raw) < 5 || int(binary.LittleEndian.Uint32(raw)) != len(raw) || raw[len(raw)-1] != 0 {
		return Entry{}, false
	}
	var boards []byte
	var seen uint8
	rest := raw[4 : len(raw)-1]
	for len(rest) > 0 {
		kind := rest[0]
		end := 1
		for end < len(rest) && rest[end] != 0 {
			end++
		}
		if end == len(rest) {
			return Entry{}, false
		}
		key := string(rest[1:end]) // no allocation: only compared
		rest = rest[end+1:]
		var str []byte
		var num int64
		switch kind {
		case 0x02: // string
			if len(rest) < 5 {
				return Entry{}, false
			}
			n := int(int32(binary.LittleEndian.Uint32(rest)))
			if n < 1 || len(rest) < 4+n || rest[3+n] != 0 {
				return Entry{}, false
			}
			str, rest = rest[4:3+n], rest[4+n:]
			if !utf8.Valid(str) {
				return Entry{}, false // the driver's decoding keeps such bytes; leave it to that
			}
		case 0x10: // int32
			if len(rest) < 4 {
				return Entry{}, false
			}
			num, rest = int64(int32(binary.LittleEndian.Uint32(rest))), rest[4:]
		case 0x12, 0x09: // int64, UTC datetime
			if len(rest) < 8 {
				return Entry{}, false
			}
			num, rest = int64(binary.LittleEndian.Uint64(rest)), rest[8:]
		default:
			return Entry{}, false
		}
		var bit uint8
		switch {
		case key == "_id" && kind == 0x02:
			e.ID, bit = string(str), 1
		case key == "reason" && kind == 0x02:
			e.Reason, bit = d.intern(str), 2
		case key == "source" && kind == 0x02:
			e.Source, bit = string(str), 4
		case key == "points" && (kind == 0x10 || kind == 0x12):
			if num != int64(int(num)) {
				return Entry{}, false
			}
			e.Points, bit = int(num), 8
		case key == "at" && kind == 0x09:
			e.At, bit = time.UnixMilli(num).UTC(), 16
		case key == "volunteer" && kind == 0x02:
			e.Who.VolunteerID, bit = string(str), 32
		case key == "boards" && kind == 0x02:
			boards, bit = str, 64
		default:
			return Entry{}, false
		}
		if seen&bit != 0 {
			return Entry{}, false // a key twice
		}
		seen |= bit
	}
	// Fields that an entry may lack decode to their zero values, as the
	// general decoding does; only boards must be there.
	if seen&64 == 0 || !d.boards(boards, &e) {
		return Entry{}, false
	}
	return e, true
}

// boards reads the boards string into e, or says it cannot.
func (d *entryDecoder) boards(b []byte, e *Entry) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	b = b[1 : len(b)-1]
	credits := false
	for len(b) > 0 {
		key, rest, ok := jsonString(b)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return false
		}
		b = rest[1:]
		if string(key) == "cr" {
			if credits {
				return false
			}
			if b, ok = d.credits(b, e); !ok {
				return false
			}
			credits = true
		} else {
			var val []byte
			if val, b, ok = jsonString(b); !ok {
				return false
			}
			var field *string
			switch string(key) {
			case "n":
				field = &e.Who.Name
			case "b":
				field = &e.Who.BranchID
			case "bn":
				field = &e.Who.BranchName
			case "c":
				field = &e.Who.CommuneID
			case "cn":
				field = &e.Who.CommuneName
			case "p":
				field = &e.Who.ProvinceCode
			case "cc":
				field = &e.Who.CommuneCode
			default:
				return false
			}
			*field = d.intern(val)
		}
		if len(b) > 0 {
			if b[0] != ',' || len(b) == 1 {
				return false
			}
			b = b[1:]
		}
	}
	return credits
}

// credits reads [["campaign",points],...] and returns what follows it.
func (d *entryDecoder) credits(b []byte, e *Entry) ([]byte, bool) {
	if len(b) < 2 || b[0] != '[' {
		return nil, false
	}
	b = b[1:]
	e.Credits = nil
	if b[0] == ']' {
		return b[1:], true
	}
	for {
		if len(b) == 0 || b[0] != '[' {
			return nil, false
		}
		campaign, rest, ok := jsonString(b[1:])
		if !ok || len(rest) == 0 || rest[0] != ',' {
			return nil, false
		}
		points, rest, ok := jsonInt(rest[1:])
		if !ok || len(rest) == 0 || rest[0] != ']' {
			return nil, false
		}
		e.Credits = append(e.Credits, Credit{Campaign: d.intern(campaign), Points: points})
		b = rest[1:]
		if len(b) == 0 {
			return nil, false
		}
		if b[0] == ']' {
			return b[1:], true
		}
		if b[0] != ',' {
			return nil, false
		}
		b = b[1:]
	}
}

// jsonString reads a JSON string without escapes: its bytes and what
// follows it.
func jsonString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], b[i+1:], true
		case c == '\\' || c < 0x20:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// jsonInt reads an integer as creditJSON takes it: plain digits with an
// optional minus, at most 2^53 in size.
func jsonInt(b []byte) (n int, rest []byte, ok bool) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if v > (1<<53)/10 {
			return 0, nil, false
		}
		v = v*10 + int64(b[i]-'0')
		i++
	}
	if i == start || i-start > 1 && b[start] == '0' || v > 1<<53 || v > math.MaxInt {
		return 0, nil, false
	}
	if neg {
		v = -v
	}
	return int(v), b[i:], true
}
