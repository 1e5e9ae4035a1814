#!/usr/bin/env node
// Writes the command tables of docs/protocol.md (between <!-- commands:NAME --> and
// <!-- /commands:NAME -->) from the servers' command declarations, so the reference lists
// exactly what the servers answer. It reads the built packages:
//   npx nx run-many -t build -p coordinator node && node tools/protocol-doc.cjs
// The coordinator's and the node's tests fail while a table differs from the declarations.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Scope, renderCommandTable, replaceDocSection } = require('@kv/protocol');
const { createCoordinatorRouter } = require('@kv/coordinator');
const { createNodeRouter } = require('@kv/node');

const docPath = path.join(__dirname, '..', 'docs', 'protocol.md');

const nodeCommands = createNodeRouter().commands;
const sections = {
  coordinator: renderCommandTable(createCoordinatorRouter().commands),
  node: renderCommandTable(nodeCommands, [Scope.client, Scope.admin]),
  'node-peer': renderCommandTable(nodeCommands, [Scope.peer]),
};

let doc = fs.readFileSync(docPath, 'utf8');
for (const [name, table] of Object.entries(sections)) doc = replaceDocSection(doc, name, table);
fs.writeFileSync(docPath, doc);
console.log(
  `wrote ${Object.keys(sections).join(', ')} in ${path.relative(process.cwd(), docPath)}`,
);
