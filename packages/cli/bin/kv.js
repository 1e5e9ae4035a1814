#!/usr/bin/env node
// A checked-in launcher, so npm links the command even before the package is built.
require('../dist/bin.js');
