package rpkg

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestWriteArMatchesBinutils(t *testing.T) {
	tests := []struct {
		name    string
		members []arMember
	}{
		{"one even member", []arMember{{"metadata", []byte("{}")}}},
		{"odd sizes and an empty member", []arMember{
			{"metadata", []byte(`{"a":1}`)},
			{"files.txz", []byte("x")},
			{"scripts.txz", nil},
		}},
		{"fifteen-character name stays inline", []arMember{{"abcdefghijk.txz", []byte("abc")}}},
		{"long names go to the table", []arMember{
			{"metadata", []byte("meta")},
			{"agent-policy.txz", []byte("abc")},
			{"files.txz", []byte("x")},
			{"a-very-long-member-name.txz", []byte("yy")},
			{"scripts.txz", []byte("zzz")},
		}},
		{"odd-length table is padded", []arMember{{"agent-policy.txz", []byte("abcd")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"rcD", "ref.a"}
			for _, m := range tt.members {
				if err := os.WriteFile(filepath.Join(dir, m.Name), m.Data, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, m.Name)
			}
			run(t, dir, nil, "ar", args...)
			want, err := os.ReadFile(filepath.Join(dir, "ref.a"))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := writeAr(&got, tt.members); err != nil {
				t.Fatalf("writeAr: %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("writeAr differs from ar rcD\n got: %q\nwant: %q", got.Bytes(), want)
			}

			// And our reader reads binutils' file back.
			var fs findings
			members, err := arScan(bytes.NewReader(want), int64(len(want)), DefaultLimits(), &fs)
			if err != nil {
				t.Fatalf("arScan: %v", err)
			}
			if len(members) != len(tt.members) {
				t.Fatalf("arScan found %d members, want %d", len(members), len(tt.members))
			}
			for i, m := range members {
				data := want[m.Offset : m.Offset+m.Size]
				if m.Name != tt.members[i].Name || !bytes.Equal(data, tt.members[i].Data) {
					t.Errorf("member %d = %q %q, want %q %q", i, m.Name, data, tt.members[i].Name, tt.members[i].Data)
				}
				if m.MTime != 0 || m.UID != 0 || m.GID != 0 || m.Mode != 0o644 {
					t.Errorf("member %s header = %d %d %d %o", m.Name, m.MTime, m.UID, m.GID, m.Mode)
				}
			}
			if len(fs.list) != 0 {
				t.Errorf("findings on ar rcD output: %v", fs.list)
			}
		})
	}
}

func TestWriteArRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "a/b", "with\nnewline", "#1/x"} {
		if err := writeAr(&bytes.Buffer{}, []arMember{{name, nil}}); err == nil {
			t.Errorf("writeAr(%q) succeeded, want an error", name)
		}
	}
}

// bsdAr builds a BSD-style archive: "#1/len" names with the name in front
// of the data, as macOS ar writes it.
func bsdAr(members []arMember) []byte {
	var b bytes.Buffer
	b.WriteString(arMagic)
	for _, m := range members {
		data := append([]byte(m.Name), m.Data...)
		hdr := "#1/" + strconv.Itoa(len(m.Name))
		b.WriteString(pad(hdr, 16) + pad("0", 12) + pad("0", 6) + pad("0", 6) + pad("100644", 8) + pad(strconv.Itoa(len(data)), 10) + "`\n")
		b.Write(data)
		if len(data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func pad(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }

func TestArScan(t *testing.T) {
	gnu := func(members ...arMember) []byte {
		var b bytes.Buffer
		if err := writeAr(&b, members); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	badPad := gnu(arMember{"a", []byte("x")}, arMember{"b", []byte("y")})
	badPad[len(arMagic)+arHeaderLen+1] = ' '
	tests := []struct {
		name     string
		data     []byte
		names    []string
		wantErr  string
		wantRule Rule
	}{
		{"BSD names", bsdAr([]arMember{{"metadata", []byte("{}")}, {"agent-policy.txz", []byte("abc")}}), []string{"metadata", "agent-policy.txz"}, "", ""},
		{"bad pad byte", badPad, []string{"a", "b"}, "", RulePad},
		{"no magic", []byte("!<arch>"), nil, "magic", ""},
		{"truncated header", append([]byte(arMagic), "metadata/   "...), nil, "truncated ar header", ""},
		{"size past the end", []byte(arMagic + pad("a/", 16) + pad("0", 12) + pad("0", 6) + pad("0", 6) + pad("644", 8) + pad("99", 10) + "`\n"), nil, "runs past the end", ""},
		{"bad terminator", []byte(arMagic + pad("a/", 16) + pad("0", 12) + pad("0", 6) + pad("0", 6) + pad("644", 8) + pad("0", 10) + "xx"), nil, "bad terminator", ""},
		{"long name without table", []byte(arMagic + pad("/0", 16) + pad("0", 12) + pad("0", 6) + pad("0", 6) + pad("644", 8) + pad("0", 10) + "`\n"), nil, "outside the \"//\" table", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs findings
			members, err := arScan(bytes.NewReader(tt.data), int64(len(tt.data)), DefaultLimits(), &fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("arScan: %v", err)
			}
			var names []string
			for _, m := range members {
				names = append(names, m.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("names = %v, want %v", names, tt.names)
			}
			if tt.wantRule == RulePad && (len(fs.list) != 1 || fs.list[0].Rule != RulePad || fs.list[0].Severity != Error) {
				t.Errorf("findings = %v, want one ar-pad error", fs.list)
			}
		})
	}
}

func TestArScanLimits(t *testing.T) {
	var b bytes.Buffer
	if err := writeAr(&b, []arMember{{"a", make([]byte, 100)}, {"b", make([]byte, 100)}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lim  Limits
		want string
	}{
		{Limits{MaxTotal: 150, MaxMembers: 10, MaxEntries: 10}, "limit"},
		{Limits{MaxTotal: 1000, MaxMembers: 1, MaxEntries: 10}, "more than 1 ar members"},
	}
	for _, tt := range tests {
		var fs findings
		_, err := arScan(bytes.NewReader(b.Bytes()), int64(b.Len()), tt.lim, &fs)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("limits %+v: err = %v, want %q", tt.lim, err, tt.want)
		}
	}
}
