// Every test here synthesizes through the jsii runtime, which is not safe to use from several threads: it talks to one
// node process over stdio (aws/jsii#59), and classes starting in parallel race while it unpacks its bundled packages
// (IOException "being used by another process", TAR_BAD_ARCHIVE). Synthesis is serialised in that process anyway, so
// running the classes one after another costs little.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
