#!/usr/bin/env node
// Offline check of the SFDX project in salesforce/ (no org, no Salesforce CLI needed).
//
// 1. Salesforce's own source-deploy-retrieve library (SDR, what `sf project deploy` uses)
//    resolves every file of force-app/ to a component and converts the whole set to Metadata
//    API format, as a deploy would. A file SDR cannot resolve, a component of a type this
//    project does not use, an SDR warning or malformed XML fails the check.
// 2. The data model: every object and field of the data model (EXPECTED below) exists with its type,
//    nothing else does, and each field is well-formed for its type (lengths, precision,
//    picklist values, lookups, descriptions...).
// 3. The model covers every field the default mapping writes (workers/mapping.default.toml).
//    (The simulator builds its schema from this project, and `workers check-mapping` checks
//    the mapping's types against it; this step only feeds the permission set check below.)
// 4. The permission set: no field permission on a required or master-detail field (such a
//    deploy fails), no View All / Modify All, delete only where the fleet deletes
//    (Pricing_Tier__c), and read + edit on every field the default mapping writes.
// 5. manifest/package.xml lists exactly the components of force-app/ (`--write-manifest`
//    rewrites it).
//
// Exit status 0 when everything holds, 1 with one line per problem otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentSet, ForceIgnore, MetadataConverter } from '@salesforce/source-deploy-retrieve';
import { XMLValidator } from 'fast-xml-parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const project = path.resolve(here, '..'); // salesforce/
const repo = path.resolve(project, '..');
const forceApp = path.join(project, 'force-app');
const manifestPath = path.join(project, 'manifest', 'package.xml');
const mappingPath = path.join(repo, 'workers', 'mapping.default.toml');
const rel = (p) => path.relative(repo, p);

const problems = [];
const fail = (message) => problems.push(message);

// ─── The data model ──────────────────────────────────────────────────────────────────
// Types are Metadata API field types. salesforce/README.md says where this model departs
// from the original requirements, and why.

const EXPECTED = {
  Stripe_Customer__c: {
    nameField: 'AutoNumber SC-{000000}',
    sharingModel: 'ReadWrite',
    fields: {
      Stripe_Customer_ID__c: 'Text',
      Customer_Email__c: 'Email',
      Customer_Name__c: 'Text',
      Customer_Phone__c: 'Phone',
      Default_Payment_Method__c: 'Text',
      Subscription_Status__c: 'Picklist',
      Contact__c: 'Lookup',
      Last_Stripe_Event_At__c: 'DateTime', // added: the fence (newest wins, docs/mapping.md)
      Last_Stripe_Event_ID__c: 'Text', // added: the fence's event id
    },
  },
  Stripe_Subscription__c: {
    nameField: 'AutoNumber SUB-{000000}',
    sharingModel: 'ReadWrite',
    fields: {
      Stripe_Subscription_ID__c: 'Text',
      Stripe_Customer__c: 'Lookup',
      Product_Plan_Name__c: 'Text',
      Stripe_Price_ID__c: 'Text',
      Status__c: 'Picklist',
      Current_Period_Start__c: 'DateTime',
      Current_Period_End__c: 'DateTime',
      Amount__c: 'Currency',
      Currency__c: 'Text',
      Stripe_Checkout_Session_ID__c: 'Text',
      Checkout_URL__c: 'Url',
      Sync_Status__c: 'Picklist',
      Error_Message__c: 'LongTextArea',
      Last_Stripe_Event_At__c: 'DateTime', // added: the fence (newest wins, docs/mapping.md)
      Last_Stripe_Event_ID__c: 'Text', // added: the fence's event id
    },
  },
  Payment_Transaction__c: {
    nameField: 'AutoNumber PMT-{000000}',
    sharingModel: 'ReadWrite',
    fields: {
      Stripe_Payment_Intent_ID__c: 'Text',
      Stripe_Customer__c: 'Lookup',
      Amount__c: 'Currency',
      Currency__c: 'Text',
      Status__c: 'Picklist',
      Payment_Method_Type__c: 'Text',
      Transaction_Date__c: 'DateTime',
      Stripe_Subscription__c: 'Lookup',
      Failure_Reason__c: 'Text', // added by this project: payment failures (docs/mapping.md)
      Last_Stripe_Event_At__c: 'DateTime', // added: the fence (newest wins, docs/mapping.md)
      Last_Stripe_Event_ID__c: 'Text', // added: the fence's event id
    },
  },
  Pricing_Plan__c: {
    nameField: 'Text',
    sharingModel: 'ReadWrite',
    fields: {
      Stripe_Subscription__c: 'Lookup',
      Stripe_Price_ID__c: 'Text',
      Amount__c: 'Currency',
      Currency__c: 'Text',
      Recurrency_Type__c: 'Picklist',
      Stripe_Product_ID__c: 'Text', // added: product.updated renames a product's plans (docs/mapping.md)
      Interval_Count__c: 'Number', // added: recurring.interval_count (docs/mapping.md)
      Last_Stripe_Event_At__c: 'DateTime', // added: the fence (newest wins, docs/mapping.md)
      Last_Stripe_Event_ID__c: 'Text', // added: the fence's event id
    },
  },
  Pricing_Tier__c: {
    nameField: 'Text',
    sharingModel: 'ControlledByParent',
    fields: {
      Pricing_Plan__c: 'MasterDetail',
      Tier_Number__c: 'Number',
      From_Quantity__c: 'Number',
      To_Quantity__c: 'Number',
      Unit_Price__c: 'Currency',
      Discount__c: 'Percent', // the requirements allow Percent or Currency; Percent here
      Stripe_Tier_Key__c: 'Text', // added: the tiers' upsert key, price_...#n
      Flat_Amount__c: 'Currency', // added: a tier's flat_amount
      Last_Stripe_Event_At__c: 'DateTime', // added: the fence (newest wins, docs/mapping.md)
      Last_Stripe_Event_ID__c: 'Text', // added: the fence's event id
    },
  },
  // A standard object: only its custom field is part of the project.
  Contact: { standard: true, fields: { Stripe_Customer_ID__c: 'Text' } },
};

const EXTERNAL_IDS = {
  'Stripe_Customer__c.Stripe_Customer_ID__c': { unique: true },
  'Stripe_Subscription__c.Stripe_Subscription_ID__c': { unique: true },
  'Payment_Transaction__c.Stripe_Payment_Intent_ID__c': { unique: true },
  'Pricing_Plan__c.Stripe_Price_ID__c': { unique: true },
  'Pricing_Plan__c.Stripe_Product_ID__c': { unique: false },
  'Pricing_Tier__c.Stripe_Tier_Key__c': { unique: true },
  'Contact.Stripe_Customer_ID__c': { unique: false },
};

const PICKLISTS = {
  'Stripe_Customer__c.Subscription_Status__c': ['None', 'Active', 'Past Due', 'Canceled'],
  'Stripe_Subscription__c.Status__c': [
    'active', 'canceled', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing',
    'unpaid',
  ],
  'Stripe_Subscription__c.Sync_Status__c': ['Pending', 'Checkout Created', 'Completed', 'Failed'],
  'Payment_Transaction__c.Status__c': [
    'requires_payment_method', 'requires_confirmation', 'requires_action', 'processing',
    'requires_capture', 'canceled', 'succeeded',
  ],
  'Pricing_Plan__c.Recurrency_Type__c': {
    globalValueSet: 'Recurrency_Type',
    values: ['Daily', 'Weekly', 'Monthly', 'Yearly', 'One-time'],
  },
};

const LOOKUPS = {
  'Stripe_Customer__c.Contact__c': 'Contact',
  'Stripe_Subscription__c.Stripe_Customer__c': 'Stripe_Customer__c',
  'Payment_Transaction__c.Stripe_Customer__c': 'Stripe_Customer__c',
  'Payment_Transaction__c.Stripe_Subscription__c': 'Stripe_Subscription__c',
  'Pricing_Plan__c.Stripe_Subscription__c': 'Stripe_Subscription__c',
  'Pricing_Tier__c.Pricing_Plan__c': 'Pricing_Plan__c',
};

// Field history on the critical status fields.
const TRACKED = [
  'Stripe_Customer__c.Subscription_Status__c',
  'Stripe_Subscription__c.Status__c',
  'Stripe_Subscription__c.Sync_Status__c',
  'Payment_Transaction__c.Status__c',
];

const CHANGE_DATA_CAPTURE = ['ContactChangeEvent', 'Stripe_Subscription__ChangeEvent'];

// The fleet deletes only the tiers a price no longer lists (delete_missing in the mapping).
const DELETE_ALLOWED = new Set(['Pricing_Tier__c']);

const ALLOWED_TYPES = new Set([
  'CustomObject', 'CustomField', 'GlobalValueSet', 'PermissionSet', 'PlatformEventChannelMember',
  'ValidationRule',
]);

// ─── Small helpers ───────────────────────────────────────────────────────────────────────────

const list = (value) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);
const bool = (value) => value === true || value === 'true';
const int = (value) => (value === undefined ? undefined : Number(value));

function walk(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

// ─── 1. SDR: resolve, account for every file, convert ────────────────────────────────────────

// SDR reports some problems as warnings (through @salesforce/core's Lifecycle, which falls back
// to process warnings); any of them fails the check.
process.on('warning', (warning) => {
  if (warning.name === 'Warning') fail(`SDR warning: ${warning.message}`);
});

const sfdxProject = JSON.parse(fs.readFileSync(path.join(project, 'sfdx-project.json'), 'utf8'));
const apiVersion = sfdxProject.sourceApiVersion;

// Every component with its decomposed children (CustomObject → CustomField).
let componentSet;
const all = [];
try {
  componentSet = ComponentSet.fromSource(forceApp);
  componentSet.sourceApiVersion = apiVersion;
  for (const component of componentSet.getSourceComponents()) {
    all.push(component);
    for (const child of component.getChildren()) all.push(child);
  }
} catch (error) {
  console.error(`FAIL: SDR cannot resolve ${rel(forceApp)}: ${error.message}`);
  process.exit(1);
}

// SDR silently skips files it cannot place (e.g. a .txt under classes/): every file must belong
// to a component, unless .forceignore excludes it.
const forceIgnore = ForceIgnore.findAndCreate(project);
const claimed = new Set();
for (const component of all) {
  if (component.xml) claimed.add(path.resolve(component.xml));
  if (component.content) for (const file of component.walkContent()) claimed.add(path.resolve(file));
}
for (const file of walk(forceApp)) {
  if (!claimed.has(file) && !forceIgnore.denies(file)) fail(`${rel(file)}: not part of any component (SDR cannot resolve it)`);
}

for (const component of all) {
  if (!ALLOWED_TYPES.has(component.type.name)) {
    fail(`${rel(component.xml ?? component.content)}: unexpected component type ${component.type.name} (${component.fullName})`);
  }
  if (component.xml) {
    const text = fs.readFileSync(component.xml, 'utf8');
    const valid = XMLValidator.validate(text);
    if (valid !== true) fail(`${rel(component.xml)}:${valid.err.line}: malformed XML: ${valid.err.msg}`);
  }
}

const outputDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'sfdx-check-'));
let convertedFiles = 0;
try {
  const result = await new MetadataConverter().convert(componentSet, 'metadata', {
    type: 'directory',
    outputDirectory,
    genUniqueDir: false,
  });
  convertedFiles = walk(outputDirectory).length;
  if (!fs.existsSync(path.join(outputDirectory, 'package.xml'))) fail('conversion to Metadata API format wrote no package.xml');
  if (result.converted?.length !== componentSet.size) {
    fail(`conversion: ${componentSet.size} components in, ${result.converted?.length ?? 0} out`);
  }
} catch (error) {
  fail(`conversion to Metadata API format failed: ${error.message}`);
} finally {
  fs.rmSync(outputDirectory, { recursive: true, force: true });
}

// ─── 2. The data model ───────────────────────────────────────────────────────────────────────

const parsed = new Map(); // component → its root element, e.g. the CustomField object
for (const component of all) {
  if (!component.xml || !ALLOWED_TYPES.has(component.type.name)) continue;
  try {
    const xml = await component.parseXml();
    parsed.set(component, xml[component.type.name] ?? {});
  } catch (error) {
    fail(`${rel(component.xml)}: cannot parse: ${error.message}`);
  }
}
const ofType = (type) => all.filter((c) => c.type.name === type && parsed.has(c));

const objects = new Map(); // name → CustomObject XML
for (const component of ofType('CustomObject')) objects.set(component.fullName, { xml: parsed.get(component), file: component.xml });
const fields = new Map(); // "Object.Field" → { xml, file }
for (const component of ofType('CustomField')) fields.set(component.fullName, { xml: parsed.get(component), file: component.xml });
const valueSets = new Map();
for (const component of ofType('GlobalValueSet')) valueSets.set(component.fullName, parsed.get(component));

function picklistValues(field) {
  const valueSet = field.valueSet ?? {};
  if (valueSet.valueSetName) {
    const global = valueSets.get(valueSet.valueSetName);
    return global ? list(global.customValue).map((v) => String(v.fullName)) : undefined;
  }
  return list(valueSet.valueSetDefinition?.value).map((v) => String(v.fullName));
}

// Structural rules per field type: what a deploy would reject or what this model promises.
function checkField(name, { xml: f, file }, objectXml) {
  const where = rel(file);
  const fieldName = name.split('.')[1];
  const type = f.type;
  if (f.fullName !== fieldName) fail(`${where}: fullName ${f.fullName} does not match the file name`);
  if (!f.label) fail(`${where}: no label`);
  if (!f.description) fail(`${where}: no description (say which Stripe value fills it)`);
  const length = int(f.length);
  const precision = int(f.precision);
  const scale = int(f.scale);
  switch (type) {
    case 'Text':
      if (!(length >= 1 && length <= 255)) fail(`${where}: Text needs a length of 1 to 255, has ${f.length}`);
      break;
    case 'LongTextArea':
      if (!(length >= 256 && length <= 131072)) fail(`${where}: LongTextArea needs a length of 256 to 131072, has ${f.length}`);
      if (!(int(f.visibleLines) >= 2)) fail(`${where}: LongTextArea needs visibleLines`);
      break;
    case 'Currency':
    case 'Number':
    case 'Percent':
      if (!(precision >= 1 && precision <= 18)) fail(`${where}: ${type} needs a precision of 1 to 18, has ${f.precision}`);
      if (!(scale >= 0 && scale <= precision)) fail(`${where}: ${type} needs a scale of 0 to its precision, has ${f.scale}`);
      break;
    case 'Email':
    case 'Phone':
    case 'Url':
    case 'DateTime':
      if (f.length !== undefined) fail(`${where}: ${type} takes no length`);
      break;
    case 'Picklist': {
      const valueSet = f.valueSet;
      if (!valueSet) { fail(`${where}: Picklist without valueSet`); break; }
      if (!bool(valueSet.restricted)) fail(`${where}: the picklist must be restricted`);
      if (valueSet.valueSetName && !valueSets.has(valueSet.valueSetName)) {
        fail(`${where}: global value set ${valueSet.valueSetName} is not in force-app/main/default/globalValueSets`);
      }
      if (!valueSet.valueSetName && picklistValues(f).length === 0) fail(`${where}: picklist without values`);
      break;
    }
    case 'Lookup':
      if (!f.referenceTo || !f.relationshipName || !f.relationshipLabel) fail(`${where}: Lookup needs referenceTo, relationshipName and relationshipLabel`);
      if (f.deleteConstraint !== 'SetNull') fail(`${where}: Lookup deleteConstraint should be SetNull, is ${f.deleteConstraint}`);
      if (bool(f.required)) fail(`${where}: a SetNull lookup cannot be required`);
      break;
    case 'MasterDetail':
      if (!f.referenceTo || !f.relationshipName || !f.relationshipLabel) fail(`${where}: MasterDetail needs referenceTo, relationshipName and relationshipLabel`);
      if (f.reparentableMasterDetail === undefined) fail(`${where}: MasterDetail should state reparentableMasterDetail`);
      if (f.required !== undefined) fail(`${where}: a MasterDetail field takes no <required> (it always is)`);
      if (objectXml && objectXml.sharingModel !== 'ControlledByParent') fail(`${where}: the detail object's sharingModel must be ControlledByParent`);
      break;
    default:
      fail(`${where}: unknown or unexpected field type "${type}" (expected one of Text, LongTextArea, Email, Phone, Url, DateTime, Currency, Number, Percent, Picklist, Lookup, MasterDetail)`);
  }
  if (bool(f.externalId) && !['Text', 'Number', 'Email'].includes(type)) fail(`${where}: ${type} cannot be an External ID`);
  if (bool(f.unique) && !['Text', 'Number', 'Email'].includes(type)) fail(`${where}: ${type} cannot be unique`);
  if (bool(f.trackHistory) && objectXml && !bool(objectXml.enableHistory)) fail(`${where}: trackHistory needs enableHistory on the object`);
}

for (const [objectName, spec] of Object.entries(EXPECTED)) {
  const object = objects.get(objectName);
  if (spec.standard) {
    if (object) fail(`objects/${objectName}: a standard object; only its custom fields belong here`);
  } else if (!object) {
    fail(`objects/${objectName}/${objectName}.object-meta.xml: missing`);
  } else {
    const o = object.xml;
    const where = rel(object.file);
    const nameField = o.nameField ?? {};
    const actualName = nameField.type === 'AutoNumber' ? `AutoNumber ${nameField.displayFormat}` : nameField.type;
    if (actualName !== spec.nameField) fail(`${where}: name field is ${actualName}, expected ${spec.nameField}`);
    if (!nameField.label) fail(`${where}: name field without label`);
    if (o.sharingModel !== spec.sharingModel) fail(`${where}: sharingModel ${o.sharingModel}, expected ${spec.sharingModel}`);
    if (o.deploymentStatus !== 'Deployed') fail(`${where}: deploymentStatus should be Deployed`);
    for (const tag of ['label', 'pluralLabel', 'description']) if (!o[tag]) fail(`${where}: no ${tag}`);
    if (!bool(o.enableBulkApi)) fail(`${where}: enableBulkApi must be true (the fleet upserts with Bulk API 2.0)`);
  }
  for (const [fieldName, type] of Object.entries(spec.fields)) {
    const name = `${objectName}.${fieldName}`;
    const field = fields.get(name);
    if (!field) { fail(`objects/${objectName}/fields/${fieldName}.field-meta.xml: missing (${type})`); continue; }
    if (field.xml.type !== type) fail(`${rel(field.file)}: type ${field.xml.type}, expected ${type}`);
    checkField(name, field, object?.xml);
  }
}
for (const [name, field] of fields) {
  const [objectName, fieldName] = name.split('.');
  if (!EXPECTED[objectName]?.fields[fieldName]) fail(`${rel(field.file)}: not in the expected model (add it to EXPECTED in salesforce/tools/check.mjs)`);
}
for (const objectName of objects.keys()) {
  if (!EXPECTED[objectName]) fail(`objects/${objectName}: not in the expected model (add it to EXPECTED in salesforce/tools/check.mjs)`);
}

for (const [name, field] of fields) {
  const where = rel(field.file);
  const f = field.xml;
  const externalId = EXTERNAL_IDS[name];
  if (bool(f.externalId) !== Boolean(externalId)) fail(`${where}: externalId should be ${Boolean(externalId)}`);
  if (externalId && bool(f.unique) !== externalId.unique) fail(`${where}: unique should be ${externalId.unique}`);
  if (externalId && externalId.unique && bool(f.caseSensitive)) fail(`${where}: caseSensitive should be false (the simulator matches external ids ignoring case)`);
  const expectedValues = PICKLISTS[name];
  if (f.type === 'Picklist') {
    const wanted = Array.isArray(expectedValues) ? expectedValues : expectedValues?.values;
    const actual = picklistValues(f);
    if (!wanted) fail(`${where}: picklist not in PICKLISTS`);
    else if (JSON.stringify(actual) !== JSON.stringify(wanted)) fail(`${where}: picklist values ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
    if (expectedValues?.globalValueSet && f.valueSet?.valueSetName !== expectedValues.globalValueSet) {
      fail(`${where}: should use the global value set ${expectedValues.globalValueSet}`);
    }
  }
  if (LOOKUPS[name] && f.referenceTo !== LOOKUPS[name]) fail(`${where}: referenceTo ${f.referenceTo}, expected ${LOOKUPS[name]}`);
  if (bool(f.trackHistory) !== TRACKED.includes(name)) fail(`${where}: trackHistory should be ${TRACKED.includes(name)}`);
}
// A parent's child relationship names must be unique.
const childRelationships = new Map();
for (const [name, field] of fields) {
  if (!field.xml.relationshipName) continue;
  const key = `${field.xml.referenceTo}.${field.xml.relationshipName}`;
  if (childRelationships.has(key)) fail(`${rel(field.file)}: relationshipName ${field.xml.relationshipName} already used by ${childRelationships.get(key)} on ${field.xml.referenceTo}`);
  childRelationships.set(key, name);
}

const channelMembers = ofType('PlatformEventChannelMember');
const selected = channelMembers.map((c) => parsed.get(c).selectedEntity).sort();
if (JSON.stringify(selected) !== JSON.stringify([...CHANGE_DATA_CAPTURE].sort())) {
  fail(`Change Data Capture selection is ${JSON.stringify(selected)}, expected ${JSON.stringify(CHANGE_DATA_CAPTURE)}`);
}
for (const component of channelMembers) {
  const member = parsed.get(component);
  const expectedName = `${member.eventChannel}_${String(member.selectedEntity).replace(/__/g, '_')}`;
  if (member.eventChannel !== 'ChangeEvents') fail(`${rel(component.xml)}: eventChannel should be ChangeEvents`);
  if (component.fullName !== expectedName) fail(`${rel(component.xml)}: should be named ${expectedName} (ChannelName_EventName, no double underscore)`);
}

// ─── 3. Against the default mapping ──────────────────────────────────────────────────────────

// The fields the default mapping writes, by object: `sobject = "X"` opens a write, the keys of its
// [rule.write.fields] table and its external_id targets are written fields, `query = "F"` and
// `query_all = "F"` are read. The two fields of `[fence]` are written on every object written.
function mappingWrites(text) {
  const writes = new Map(); // object → Set(field)
  const reads = new Map();
  const add = (map, object, field) => {
    if (!map.has(object)) map.set(object, new Set());
    map.get(object).add(field);
  };
  const fence = [];
  let sobject;
  let section;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    const header = line.trim().match(/^\[\[?([\w.]+)\]?\]$/);
    if (header) {
      section = header[1];
      if (line.trim() === '[[rule]]' || line.trim() === '[[rule.write]]') sobject = undefined;
      continue;
    }
    const fenceField = section === 'fence' && line.match(/^\s*event_(?:time|id)_field\s*=\s*"(\w+)"/);
    if (fenceField) fence.push(fenceField[1]);
    const object = line.match(/^\s*sobject\s*=\s*"(\w+)"/);
    if (object) sobject = object[1];
    if (!sobject) continue;
    for (const match of line.matchAll(/\bexternal_id\s*=\s*"(\w+)"/g)) add(writes, sobject, match[1]);
    for (const match of line.matchAll(/\bquery(?:_all)?\s*=\s*"(\w+)"/g)) add(reads, sobject, match[1]);
    const key = section === 'rule.write.fields' && line.match(/^\s*(\w+)\s*=/);
    if (key) add(writes, sobject, key[1]);
  }
  for (const object of writes.keys()) for (const field of fence) add(writes, object, field);
  return { writes, reads };
}

let mapping = { writes: new Map(), reads: new Map() };
if (fs.existsSync(mappingPath)) {
  mapping = mappingWrites(fs.readFileSync(mappingPath, 'utf8'));
  if (mapping.writes.size === 0) fail(`${rel(mappingPath)}: found no writes (has its format changed?)`);
  for (const [map, verb] of [[mapping.writes, 'writes'], [mapping.reads, 'queries']]) {
    for (const [object, names] of map) {
      for (const fieldName of names) {
        if (!fieldName.endsWith('__c')) continue; // standard fields (Name) are Salesforce's
        if (!fields.has(`${object}.${fieldName}`)) fail(`${rel(mappingPath)} ${verb} ${object}.${fieldName}, which force-app does not define`);
      }
    }
  }
} else {
  console.log(`note: ${rel(mappingPath)} not found, mapping comparison skipped`);
}

// ─── 4. The permission set ───────────────────────────────────────────────────────────────────

const permissionSets = ofType('PermissionSet');
if (permissionSets.length !== 1 || permissionSets[0].fullName !== 'Stripe_Integration') {
  fail(`expected exactly one permission set, Stripe_Integration; found ${permissionSets.map((c) => c.fullName).join(', ') || 'none'}`);
}
let fieldPermissionCount = 0;
for (const component of permissionSets) {
  const ps = parsed.get(component);
  const where = rel(component.xml);
  if (!ps.label) fail(`${where}: no label`);
  const objectPermissions = new Map(list(ps.objectPermissions).map((p) => [p.object, p]));
  for (const [object, p] of objectPermissions) {
    if (bool(p.viewAllRecords) || bool(p.modifyAllRecords)) fail(`${where}: ${object} grants View All / Modify All`);
    if (bool(p.allowDelete) && !DELETE_ALLOWED.has(object)) fail(`${where}: ${object} grants delete, which the fleet never does`);
    if (DELETE_ALLOWED.has(object) && !bool(p.allowDelete)) fail(`${where}: ${object} needs delete (the fleet deletes tiers a price no longer lists)`);
    if (!objects.has(object) && !EXPECTED[object]?.standard) fail(`${where}: object permission on ${object}, which force-app does not define`);
  }
  const fieldPermissions = new Map();
  for (const p of list(ps.fieldPermissions)) {
    fieldPermissionCount++;
    const name = p.field;
    fieldPermissions.set(name, p);
    const field = fields.get(name);
    if (!field) { fail(`${where}: field permission on ${name}, which force-app does not define`); continue; }
    if (bool(field.xml.required)) fail(`${where}: field permission on the required field ${name} (a deploy rejects it)`);
    if (field.xml.type === 'MasterDetail') fail(`${where}: field permission on the master-detail field ${name} (a deploy rejects it)`);
    if (bool(p.editable) && !bool(p.readable)) fail(`${where}: ${name} editable but not readable`);
    const object = name.split('.')[0];
    const op = objectPermissions.get(object);
    if (!op || !bool(op.allowRead)) fail(`${where}: ${name} has a field permission but ${object} is not readable`);
  }
  for (const [object, names] of mapping.writes) {
    const op = objectPermissions.get(object);
    if (!op || !bool(op.allowRead) || !bool(op.allowCreate) || !bool(op.allowEdit)) fail(`${where}: the fleet upserts ${object}: it needs read, create and edit`);
    for (const fieldName of names) {
      const name = `${object}.${fieldName}`;
      const field = fields.get(name);
      if (!field || bool(field.xml.required) || field.xml.type === 'MasterDetail') continue;
      const p = fieldPermissions.get(name);
      if (!p || !bool(p.readable) || !bool(p.editable)) fail(`${where}: the fleet writes ${name}: it needs readable and editable`);
    }
  }
  for (const [object, names] of mapping.reads) {
    for (const fieldName of names) {
      const p = fieldPermissions.get(`${object}.${fieldName}`);
      if (!p || !bool(p.readable)) fail(`${where}: the fleet queries ${object}.${fieldName}: it needs readable`);
    }
  }
}

// ─── 5. The manifest ─────────────────────────────────────────────────────────────────────────

const packageXml = await componentSet.getPackageXml();
if (process.argv.includes('--write-manifest')) {
  fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
  fs.writeFileSync(manifestPath, packageXml);
  console.log(`wrote ${rel(manifestPath)}`);
} else if (!fs.existsSync(manifestPath) || fs.readFileSync(manifestPath, 'utf8') !== packageXml) {
  fail(`${rel(manifestPath)} does not list exactly the components of force-app (run: node salesforce/tools/check.mjs --write-manifest)`);
}

// ─── Report ──────────────────────────────────────────────────────────────────────────────────

const byType = new Map();
for (const component of all) byType.set(component.type.name, (byType.get(component.type.name) ?? 0) + 1);
const sdrVersion = JSON.parse(
  fs.readFileSync(path.join(here, 'node_modules', '@salesforce', 'source-deploy-retrieve', 'package.json'), 'utf8'),
).version;

console.log(`source-deploy-retrieve ${sdrVersion}, API ${apiVersion}: ${rel(forceApp)}`);
for (const [type, count] of [...byType].sort()) console.log(`  ${type.padEnd(28)} ${count}`);
console.log(`  converted to Metadata API format: ${convertedFiles} files`);
const writtenCount = [...mapping.writes.values()].reduce((n, s) => n + s.size, 0);
console.log(
  `  model: ${Object.keys(EXPECTED).length} objects, ${fields.size} fields; ` +
    `mapping writes: ${writtenCount} fields; permission set: ${fieldPermissionCount} field permissions`,
);

if (problems.length > 0) {
  console.error(`\nFAIL: ${problems.length} problem(s)`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log('OK');
