package app

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version stamped at build time",
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprintln(c.App.Writer, Version)
			return err
		},
	}
}
