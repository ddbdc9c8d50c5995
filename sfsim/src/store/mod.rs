//! The org's records, in memory, with the indexes upserts and lookups need.
//!
//! One [`Db`] sits behind one mutex: every write batch (a REST call, a Collections request,
//! a 200-row Bulk chunk) runs start to finish under it, which makes `allOrNone` trivially
//! atomic and keeps the code simple; critical sections are microseconds, far below the
//! cost of the HTTP request around them. Writes go through a [`Txn`] that records how to
//! undo them, so a failed all-or-none batch rolls back exactly what it did.

pub mod change;
pub mod history;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::schema::{FieldDef, ObjectDef};
use change::Change;
use history::WriteEntry;

/// One stored record.
#[derive(Debug, Clone)]
pub struct Record {
    /// 18-character id.
    pub id: String,
    /// Insertion sequence, for stable listing and query order.
    pub seq: u64,
    /// Field values by API name (canonical case); missing means null.
    pub fields: BTreeMap<String, Value>,
}

/// Records of one object plus the match-key indexes.
#[derive(Debug, Default)]
struct Table {
    records: HashMap<String, Record>,
    /// field API name -> match key -> ids having it.
    indexes: HashMap<String, HashMap<String, Vec<String>>>,
    auto_number: u64,
}

/// Undo information for one write.
#[derive(Debug)]
enum Undo {
    Inserted { object: String, id: String },
    Replaced { object: String, old: Record },
    Removed { object: String, old: Record },
}

/// A write batch in progress: how to undo it, and the history and changes it will add on
/// commit.
#[derive(Debug, Default)]
pub struct Txn {
    undo: Vec<Undo>,
    history: Vec<(String, WriteEntry)>,
    changes: Vec<Change>,
}

impl Txn {
    /// Appends `later` (a batch that ran after this one) to this transaction, so that one
    /// commit or rollback covers both: a Composite request with `allOrNone` true is one
    /// transaction over all its subrequests (docs/salesforce-api.md §4.4).
    pub fn absorb(&mut self, later: Txn) {
        self.undo.extend(later.undo);
        self.history.extend(later.history);
        self.changes.extend(later.changes);
    }
}

/// All records of the org.
#[derive(Debug, Default)]
pub struct Db {
    tables: HashMap<String, Table>,
    deleted: HashSet<String>,
    history: HashMap<String, Vec<WriteEntry>>,
    next_seq: u64,
    history_limit: usize,
}

/// The index key of a match-field value: case-folded unless the field is case-sensitive.
pub fn match_key(field: &FieldDef, text: &str) -> String {
    if field.case_sensitive {
        text.to_string()
    } else {
        text.to_lowercase()
    }
}

impl Db {
    /// An empty org keeping at most `history_limit` writes per record (oldest dropped).
    pub fn new(history_limit: usize) -> Self {
        Self {
            history_limit,
            ..Self::default()
        }
    }

    /// The record with this id, if it exists in `object`.
    pub fn get(&self, object: &str, id: &str) -> Option<&Record> {
        self.tables
            .get(object)
            .and_then(|table| table.records.get(id))
    }

    /// Whether the id belonged to a record that was deleted.
    pub fn was_deleted(&self, id: &str) -> bool {
        self.deleted.contains(id)
    }

    /// Ids of records whose match field equals `text` (case rules of the field).
    pub fn find_by(&self, object: &str, field: &FieldDef, text: &str) -> Vec<String> {
        if field.name == "Id" {
            return crate::ids::normalize(text)
                .filter(|id| self.get(object, id).is_some())
                .into_iter()
                .collect();
        }
        self.tables
            .get(object)
            .and_then(|table| table.indexes.get(&field.name))
            .and_then(|index| index.get(&match_key(field, text)))
            .cloned()
            .unwrap_or_default()
    }

    /// All records of an object in insertion order.
    pub fn records(&self, object: &str) -> Vec<&Record> {
        let mut records: Vec<&Record> = self
            .tables
            .get(object)
            .map(|table| table.records.values().collect())
            .unwrap_or_default();
        records.sort_by_key(|record| record.seq);
        records
    }

    /// The committed write history of a record, oldest first.
    pub fn history(&self, id: &str) -> &[WriteEntry] {
        self.history.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The next auto-number of an object.
    pub fn next_auto_number(&mut self, object: &str) -> u64 {
        let table = self.tables.entry(object.to_string()).or_default();
        table.auto_number += 1;
        table.auto_number
    }

    /// Stores a new record.
    pub fn insert(&mut self, txn: &mut Txn, object: &ObjectDef, mut record: Record) {
        self.next_seq += 1;
        record.seq = self.next_seq;
        let table = self.tables.entry(object.name.clone()).or_default();
        index_record(table, object, &record, true);
        txn.undo.push(Undo::Inserted {
            object: object.name.clone(),
            id: record.id.clone(),
        });
        table.records.insert(record.id.clone(), record);
    }

    /// Replaces an existing record with a new version.
    pub fn replace(&mut self, txn: &mut Txn, object: &ObjectDef, record: Record) {
        let table = self.tables.entry(object.name.clone()).or_default();
        if let Some(old) = table.records.remove(&record.id) {
            index_record(table, object, &old, false);
            txn.undo.push(Undo::Replaced {
                object: object.name.clone(),
                old,
            });
        }
        index_record(table, object, &record, true);
        table.records.insert(record.id.clone(), record);
    }

    /// Deletes a record.
    pub fn remove(&mut self, txn: &mut Txn, object: &ObjectDef, id: &str) {
        let table = self.tables.entry(object.name.clone()).or_default();
        if let Some(old) = table.records.remove(id) {
            index_record(table, object, &old, false);
            self.deleted.insert(id.to_string());
            txn.undo.push(Undo::Removed {
                object: object.name.clone(),
                old,
            });
        }
    }

    /// Queues a history entry, written when the transaction commits.
    pub fn record_history(&self, txn: &mut Txn, id: &str, entry: WriteEntry) {
        txn.history.push((id.to_string(), entry));
    }

    /// Queues a record change, handed back by [`Db::commit`] (dropped by a rollback).
    pub fn record_change(&self, txn: &mut Txn, change: Change) {
        txn.changes.push(change);
    }

    /// Makes the transaction's writes permanent, appends their history and returns the
    /// record changes in the order they were made (for Change Data Capture).
    pub fn commit(&mut self, txn: Txn) -> Vec<Change> {
        for (id, entry) in txn.history {
            let writes = self.history.entry(id).or_default();
            writes.push(entry);
            if writes.len() > self.history_limit {
                let excess = writes.len() - self.history_limit;
                writes.drain(..excess);
            }
        }
        txn.changes
    }

    /// Undoes every write of the transaction, newest first. Needs the schema to rebuild
    /// indexes of restored records.
    pub fn rollback(&mut self, txn: Txn, object_of: impl Fn(&str) -> Option<Arc<ObjectDef>>) {
        for undo in txn.undo.into_iter().rev() {
            match undo {
                Undo::Inserted { object, id } => {
                    let Some(def) = object_of(&object) else {
                        continue;
                    };
                    let table = self.tables.entry(object).or_default();
                    if let Some(old) = table.records.remove(&id) {
                        index_record(table, &def, &old, false);
                    }
                }
                Undo::Replaced { object, old } | Undo::Removed { object, old } => {
                    let Some(def) = object_of(&object) else {
                        continue;
                    };
                    self.deleted.remove(&old.id);
                    let table = self.tables.entry(object).or_default();
                    if let Some(newer) = table.records.remove(&old.id) {
                        index_record(table, &def, &newer, false);
                    }
                    index_record(table, &def, &old, true);
                    table.records.insert(old.id.clone(), old);
                }
            }
        }
    }
}

/// Adds (or removes) a record's match-field values to (from) the table's indexes.
fn index_record(table: &mut Table, object: &ObjectDef, record: &Record, add: bool) {
    for field in object
        .fields
        .iter()
        .filter(|f| (f.matchable || f.unique) && f.name != "Id")
    {
        let Some(value) = record.fields.get(&field.name) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let key = match_key(field, &crate::values::as_text(value));
        let index = table.indexes.entry(field.name.clone()).or_default();
        if add {
            index.entry(key).or_default().push(record.id.clone());
        } else if let Some(ids) = index.get_mut(&key) {
            ids.retain(|id| id != &record.id);
            if ids.is_empty() {
                index.remove(&key);
            }
        }
    }
}
