package plugins

import "context"

// Codegen is what `packyard codegen` does: Load projectDir's manifests,
// Pin the plugins' modules in its go.mod, and Generate plugin_*.go files in
// packageDir (relative to projectDir; "" means projectDir). env is the go
// tool's environment, nil for this process's.
func Codegen(ctx context.Context, projectDir, packageDir string, env []string) error {
	plugins, err := Load(projectDir)
	if err != nil {
		return err
	}
	if err := Pin(ctx, projectDir, plugins, env); err != nil {
		return err
	}
	return Generate(GenerateOptions{ProjectDir: projectDir, PackageDir: packageDir, Plugins: plugins})
}
