// Placeholder entry point; the command tree is built in the CLI work.
return 0;
