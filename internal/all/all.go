// Package all imports every component compiled into the sluice binary;
// each registers itself in init.
package all

import ()
