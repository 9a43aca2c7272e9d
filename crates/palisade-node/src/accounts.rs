//! Users and groups by name, as the node's own `/etc/passwd` and `/etc/group` list them: the
//! benchmark's owners (`root:root`, `etcd:etcd`) are names, and a file's owner is a number
//! that only the node's own tables turn into one.

use std::collections::HashMap;

/// The node's users and groups.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    users: HashMap<String, u32>,
    groups: HashMap<String, u32>,
    /// Names by id in the tables' order: `getpwuid` gives the first name of an id.
    user_names: Vec<(u32, String)>,
    group_names: Vec<(u32, String)>,
}

impl Accounts {
    /// Reads `passwd` and `group` text (`name:x:id:...` lines; comments, blank and malformed
    /// lines skipped, the first entry of a name kept as `getpwnam` keeps it). `root` is always
    /// 0, as the kernel has it.
    pub fn parse(passwd: &str, group: &str) -> Accounts {
        let (users, user_names) = table(passwd);
        let (groups, group_names) = table(group);
        let mut accounts = Accounts {
            users,
            groups,
            user_names,
            group_names,
        };
        accounts.users.insert("root".into(), 0);
        accounts.groups.insert("root".into(), 0);
        accounts
    }

    /// The user id of `name`.
    pub fn uid(&self, name: &str) -> Option<u32> {
        self.users.get(name).copied()
    }

    /// The group id of `name`.
    pub fn gid(&self, name: &str) -> Option<u32> {
        self.groups.get(name).copied()
    }

    /// `uid` as its name, or the number alone when no user has it.
    pub fn user_name(&self, uid: u32) -> String {
        named(&self.user_names, uid)
    }

    /// `gid` as its name, or the number alone when no group has it.
    pub fn group_name(&self, gid: u32) -> String {
        named(&self.group_names, gid)
    }
}

/// The first name the table gives `id` (root's 0 is `root` in any table that does not name it).
fn named(names: &[(u32, String)], id: u32) -> String {
    names
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, name)| name.clone())
        .unwrap_or_else(|| match id {
            0 => "root".to_string(),
            _ => id.to_string(),
        })
}

/// A table's names to ids (the first entry of a name kept, as `getpwnam` keeps it), and its
/// entries in order.
fn table(text: &str) -> (HashMap<String, u32>, Vec<(u32, String)>) {
    let mut by_name = HashMap::new();
    let mut in_order = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(id) = id.parse::<u32>()
            && !name.is_empty()
        {
            by_name.entry(name.to_string()).or_insert(id);
            in_order.push((id, name.to_string()));
        }
    }
    (by_name, in_order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_the_node_tables() {
        let accounts = Accounts::parse(
            "root:x:0:0:root:/root:/bin/bash\n# comment\netcd:x:996:993::/var/lib/etcd:/sbin/nologin\nbroken\netcd:x:5:5::/:/bin/sh\n",
            "root:x:0:\netcd:x:993:\nbad:x:notanumber:\n",
        );
        assert_eq!(accounts.uid("etcd"), Some(996));
        assert_eq!(accounts.gid("etcd"), Some(993));
        assert_eq!(accounts.gid("bad"), None);
        assert_eq!(accounts.user_name(996), "etcd");
        assert_eq!(accounts.user_name(1000), "1000");
        assert_eq!(Accounts::parse("", "").uid("root"), Some(0));
    }
}
