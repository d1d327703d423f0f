package main

import (
	"encoding/json"
	"io"

	"gopkg.in/yaml.v3"
)

// writeText prints v as YAML: JSON is YAML, so decoding v's JSON into a
// yaml.Node keeps the field order and the JSON names, and re-encoding it
// gives block-style text that reads well in a terminal.
func writeText(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	setBlockStyle(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

func setBlockStyle(n *yaml.Node) {
	n.Style &^= yaml.FlowStyle
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		n.Style &^= yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		setBlockStyle(c)
	}
}
