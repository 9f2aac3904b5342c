# Runs the installed pgbadger's own normalize_query (and the remove_alias it calls) on
# NUL-separated statements from stdin, printing the results NUL-separated: the reference that
# tests/parsers/test_fingerprint_pg.py compares processor/parsers/fingerprint_pg.py with.
# Usage: perl pgbadger_normalize.pl /usr/bin/pgbadger < statements
use strict;
use warnings;

my $pgbadger = shift or die "usage: $0 PATH_TO_PGBADGER\n";
my $source = do { local $/; open my $fh, '<', $pgbadger or die "$pgbadger: $!\n"; <$fh> };
my ($alias) = $source =~ /(^sub remove_alias\n\{.*?^\}\n)/ms or die "no remove_alias in $pgbadger\n";
my ($normalize) = $source =~ /(^sub normalize_query\n\{.*?^\}\n)/ms
  or die "no normalize_query in $pgbadger\n";
our $keep_comments = 0;    # pgbadger's default
eval "no strict 'vars'; no warnings; $alias; $normalize; 1" or die $@;

binmode STDIN;
binmode STDOUT;
local $/ = "\0";
while (my $query = <STDIN>) {
    chomp $query;
    my $normalized = normalize_query($query);
    print defined $normalized ? $normalized : '', "\0";
}
