//! `fleetctl apply`: server-side apply of the bundled manifests (or of `--from DIR`), one line
//! per object: `<kind>/<name> created|configured|unchanged`.

use super::{Failure, Outcome};
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::cluster::apply::{ApplyOptions, apply, load_bundled, load_dir, prepare};
use crate::cluster::client::{connect, reachable};

pub async fn run(global: &GlobalArgs, args: ApplyArgs) -> Outcome {
    let objects = match &args.from {
        Some(dir) => load_dir(dir, &global.namespace)?,
        None => load_bundled()?,
    };
    let objects = prepare(objects, &global.namespace, args.image.as_deref())?;
    let (client, source) = connect(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    reachable(&client, &source).await?;
    let opts = ApplyOptions {
        namespace: global.namespace.clone(),
        dry_run: args.dry_run,
    };
    let suffix = if args.dry_run { " (dry run)" } else { "" };
    let mut errors = Vec::new();
    let failures = apply(&client, &objects, &opts, &mut |a| match &a.result {
        Ok(change) => println!("{} {}{suffix}", a.object, change.as_str()),
        Err(e) => {
            eprintln!("fleetctl: {e}");
            errors.push(a.object.clone());
        }
    })
    .await?;
    if failures > 0 {
        return Err(Failure::from(format!(
            "{failures} of {} objects not applied ({}); see the messages above",
            objects.len(),
            errors.join(", ")
        )));
    }
    Ok(())
}
