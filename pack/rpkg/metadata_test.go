package rpkg

import (
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{"8.1.0-0.26", true},
		{"8.0.3-2.5", true},
		{"4.1-1.0", true},
		{"10.0.0~alpha2-2.1-nightly", true},
		{"8.0.0~rc1-2.1", true},
		{"8.0.0~beta3-2.1", true},
		{"8.1.0-2.5.1", false},
		{"8.1.0-2.5-SNAPSHOT", false},
		{"8.1.0-2", false},
		{"8.1.0", false},
		{"8-2.5", false},
		{"8.1~rc1-2.5", false},
		{"8.1.0~gamma1-2.5", false},
		{"8.1.0~rc-2.5", false},
		{"v8.1.0-2.5", false},
		{"8.1.0-2.5-nightly-nightly", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckVersion(tt.v); (err == nil) != tt.ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", tt.v, err, tt.ok)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"rudder-plugin-notify", true},
		{"rudder-plugin-system-updates", true},
		{"rudder-plugin-2fa", true},
		{"rudder-plugin-", false},
		{"rudder-plugin-Notify", false},
		{"rudder-plugin-a/b", false},
		{"rudder-plugin-a.b", false},
		{"rudder-plugin-a\n", false},
		{"notify", false},
	}
	for _, tt := range tests {
		if err := CheckName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	const good = `{"type":"plugin","name":"rudder-plugin-x","version":"8.1.0-1.0","build-date":"2024-01-01T00:00:00+00:00","build-commit":"abcdef0","content":{"files.txz":"/opt"}}`
	tests := []struct {
		name string
		in   string
		want string // error substring; "" means it parses
	}{
		{"valid", good, ""},
		{"valid with trailing newline", good + "\n", ""},
		{"BOM", "\xEF\xBB\xBF" + good, "byte order mark"},
		{"invalid UTF-8", `{"type":"plugin","description":"` + "\xff" + `"}`, "not valid UTF-8"},
		{"missing comma", "{\n  \"type\": \"plugin\"\n  \"name\": \"x\"\n}", "invalid JSON at line 3, column 3"},
		{"trailing comma", `{"type":"plugin",}`, "invalid JSON at line 1, column 18"},
		{"comment", "{// c\n}", "invalid JSON at line 1, column 2"},
		{"two documents", good + good, "invalid JSON"},
		{"array", `[]`, "want a JSON"},
		{"null", `null`, "want a JSON object"},
		{"type of a key", `{"type":"plugin","requires-license":"yes"}`, `key "requires-license" at line 1, column 41: want a JSON bool, got string`},
		{"duplicate key", `{"name":"rudder-plugin-a","name":"rudder-plugin-b"}`, `key "name" repeated at line 1`},
		{"empty", ``, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMetadata([]byte(tt.in))
			if tt.want == "" {
				if err != nil || m.Name != "rudder-plugin-x" {
					t.Fatalf("ParseMetadata = %+v, %v", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
