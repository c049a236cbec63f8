package gamify

import (
	"bytes"
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// entryDecoder reads ledger entries of the current layout straight from
// their BSON for a rebuild: the driver's reflection took most of what
// adding an entry to every board takes (docs/PERFORMANCE.md, "entry
// decoding"). It takes only what toEntryDoc writes: the fields of entryDoc
// as strings, integers and a date, and the boards document of strings with
// its credits, each field once. Anything else, the earlier layouts
// included, it leaves to the general decoding, so that both always agree
// (fuzzed by FuzzEntryDecoderAgrees).
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

// BSON element types the decoder reads.
const (
	bsonString   = 0x02
	bsonDocument = 0x03
	bsonArray    = 0x04
	bsonDateTime = 0x09
	bsonInt32    = 0x10
	bsonInt64    = 0x12
)

// elements calls f with the type, key and value of each element of the
// BSON document doc, in order. It says false when doc is not well formed,
// holds a type it does not read, or f said false.
func elements(doc []byte, f func(kind byte, key, val []byte) bool) bool {
	if len(doc) < 5 || int(binary.LittleEndian.Uint32(doc)) != len(doc) || doc[len(doc)-1] != 0 {
		return false
	}
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		kind := rest[0]
		end := bytes.IndexByte(rest[1:], 0)
		if end < 0 {
			return false
		}
		key := rest[1 : 1+end]
		rest = rest[2+end:]
		var n int
		switch kind {
		case bsonString: // int32 length, the bytes, NUL
			if len(rest) < 5 {
				return false
			}
			l := int(int32(binary.LittleEndian.Uint32(rest)))
			if l < 1 || len(rest) < 4+l || rest[3+l] != 0 {
				return false
			}
			n = 4 + l
		case bsonDocument, bsonArray: // a document, its length first
			if len(rest) < 5 {
				return false
			}
			n = int(int32(binary.LittleEndian.Uint32(rest)))
			if n < 5 {
				return false
			}
		case bsonInt32:
			n = 4
		case bsonInt64, bsonDateTime:
			n = 8
		default:
			return false
		}
		if len(rest) < n || !f(kind, key, rest[:n]) {
			return false
		}
		rest = rest[n:]
	}
	return true
}

// stringOf is the text of a value, if it is a string of valid UTF-8 (the
// driver's decoding keeps other bytes: leave those to it).
func stringOf(kind byte, val []byte) ([]byte, bool) {
	if kind != bsonString {
		return nil, false
	}
	s := val[4 : len(val)-1]
	return s, utf8.Valid(s)
}

// intOf is the integer of an int32 or int64 value.
func intOf(kind byte, val []byte) (int64, bool) {
	switch kind {
	case bsonInt32:
		return int64(int32(binary.LittleEndian.Uint32(val))), true
	case bsonInt64:
		return int64(binary.LittleEndian.Uint64(val)), true
	}
	return 0, false
}

// decode returns the entry and true, or false when raw is not what it
// reads.
func (d *entryDecoder) decode(raw []byte) (e Entry, ok bool) {
	var seen uint8
	ok = elements(raw, func(kind byte, key, val []byte) bool {
		var bit uint8
		switch string(key) {
		case "_id", "reason", "source", "volunteer":
			s, valid := stringOf(kind, val)
			if !valid {
				return false
			}
			switch string(key) {
			case "_id":
				e.ID, bit = string(s), 1
			case "reason":
				e.Reason, bit = d.intern(s), 2
			case "source":
				e.Source, bit = string(s), 4
			default:
				e.Who.VolunteerID, bit = string(s), 8
			}
		case "points":
			n, isInt := intOf(kind, val)
			if !isInt || n != int64(int(n)) {
				return false
			}
			e.Points, bit = int(n), 16
		case "at":
			if kind != bsonDateTime {
				return false
			}
			e.At, bit = time.UnixMilli(int64(binary.LittleEndian.Uint64(val))).UTC(), 32
		case "boards":
			if kind != bsonDocument || !d.boards(val, &e) {
				return false
			}
			bit = 64
		default:
			return false
		}
		if seen&bit != 0 {
			return false // a key twice
		}
		seen |= bit
		return true
	})
	// Fields that an entry may lack decode to their zero values, as the
	// general decoding does; only boards must be there.
	if !ok || seen&64 == 0 {
		return Entry{}, false
	}
	return e, true
}

// boards reads the boards document into e, or says it cannot.
func (d *entryDecoder) boards(doc []byte, e *Entry) bool {
	var seen uint8
	ok := elements(doc, func(kind byte, key, val []byte) bool {
		var field *string
		var bit uint8
		switch string(key) {
		case "credits":
			if kind != bsonArray || !d.credits(val, e) {
				return false
			}
			bit = 1
		case "name":
			field, bit = &e.Who.Name, 2
		case "branch_id":
			field, bit = &e.Who.BranchID, 4
		case "branch_name":
			field, bit = &e.Who.BranchName, 8
		case "commune_id":
			field, bit = &e.Who.CommuneID, 16
		case "commune_name":
			field, bit = &e.Who.CommuneName, 32
		case "province_code":
			field, bit = &e.Who.ProvinceCode, 64
		case "commune_code":
			field, bit = &e.Who.CommuneCode, 128
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if field != nil {
			s, valid := stringOf(kind, val)
			if !valid {
				return false
			}
			*field = d.intern(s)
		}
		return true
	})
	return ok && seen&1 != 0
}

// credits reads the array of {campaign, points} into e.
func (d *entryDecoder) credits(arr []byte, e *Entry) bool {
	e.Credits = nil
	return elements(arr, func(kind byte, _, val []byte) bool {
		if kind != bsonDocument {
			return false
		}
		var c Credit
		var seen uint8
		ok := elements(val, func(kind byte, key, val []byte) bool {
			switch string(key) {
			case "campaign":
				s, valid := stringOf(kind, val)
				if !valid || seen&1 != 0 {
					return false
				}
				c.Campaign, seen = d.intern(s), seen|1
			case "points":
				n, isInt := intOf(kind, val)
				if !isInt || n != int64(int(n)) || seen&2 != 0 {
					return false
				}
				c.Points, seen = int(n), seen|2
			default:
				return false
			}
			return true
		})
		if !ok || seen != 3 {
			return false
		}
		e.Credits = append(e.Credits, c)
		return true
	})
}
