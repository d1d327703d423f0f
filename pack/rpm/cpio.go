package rpm

import (
	"fmt"
	"io"
)

// newc writes cpio's "new ASCII" format (magic 070701), rpm's payload
// archive: a 110-byte header of hex fields, the NUL-terminated name, the
// data, each padded to 4 bytes. It is written by hand, not with a cpio
// library, because the data of large files must reach splice.Writer.File
// rather than pass through the archive writer; the bytes are those
// cavaliergopher/cpio (rpmpack's encoder) writes: inodes numbered from 1
// in order, upper-case hex, no mtime, no check field.
type newc struct {
	w     io.Writer
	mtime uint32 // every entry's; 0 (none) in the binary rpm, as rpmpack's
	inode int64
	pad   int64 // after the last entry's data
}

const newcTrailer = "TRAILER!!!"

var zeros [4]byte

// header ends the previous entry and starts one of size data bytes.
func (c *newc) header(name string, mode uint32, links, size int64) error {
	if _, err := c.w.Write(zeros[:c.pad]); err != nil {
		return err
	}
	inode, mtime := int64(0), uint32(0)
	if name != newcTrailer {
		mtime = c.mtime
		c.inode++
		inode = c.inode
	}
	h := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		inode, mode, 0, 0, links, mtime, size, 0, 0, 0, 0, len(name)+1, 0)
	h += name + "\x00"
	h += string(zeros[:(4-len(h)%4)%4])
	if _, err := io.WriteString(c.w, h); err != nil {
		return err
	}
	c.pad = (4 - size%4) % 4
	return nil
}

// close writes the trailer entry.
func (c *newc) close() error {
	if err := c.header(newcTrailer, 0, 1, 0); err != nil {
		return err
	}
	_, err := c.w.Write(zeros[:c.pad])
	return err
}
