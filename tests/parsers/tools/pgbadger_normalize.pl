# Runs the installed pgbadger's own normalize_query (and the remove_alias it calls) on
# NUL-separated statements from stdin, printing the results NUL-separated: the reference that
# tests/parsers/test_fingerprint_pg.py compares processor/parsers/fingerprint_pg.py with.
#
# With --stored, records come in pairs (statement, bound parameters or ""), and each statement
# first goes through the lines of pgbadger's store_queries that prepare it for normalize_query
# (trim, drop trailing `;`s, bind the parameters, append `;`), taken from the same source file;
# a statement pgbadger would not class prints as "\x01".
# Usage: perl pgbadger_normalize.pl [--stored] /usr/bin/pgbadger < records
use strict;
use warnings;

my $stored = @ARGV && $ARGV[0] eq '--stored' ? shift : 0;
my $pgbadger = shift or die "usage: $0 [--stored] PATH_TO_PGBADGER\n";
my $source = do { local $/; open my $fh, '<', $pgbadger or die "$pgbadger: $!\n"; <$fh> };
my ($alias) = $source =~ /(^sub remove_alias\n\{.*?^\}\n)/ms or die "no remove_alias in $pgbadger\n";
my ($normalize) = $source =~ /(^sub normalize_query\n\{.*?^\}\n)/ms
  or die "no normalize_query in $pgbadger\n";
our $keep_comments = 0;    # pgbadger's default
eval "no strict 'vars'; no warnings; $alias; $normalize; 1" or die $@;

our (%cur_info, $t_pid);
my $prepare = sub { die "unused" };
if ($stored) {
    my ($store) = $source =~ /(^sub store_queries\n\{.*?^\}\n)/ms or die "no store_queries\n";
    # The statements of store_queries between the dump modes and the filters, and the `;`.
    my ($cleanup) = $store =~ /(\t# Cleanup and pre-normalize the current query\n(?:\t\$cur_info.*\n)+)/
      or die "no query clean-up in store_queries\n";
    my @binds = $store =~ /(\t# Replace bind parameters values in the query if any\n\tif .*?\n\t\}\n\telse\n\t\{\n.*?\n\t\}\n)/gs;
    @binds or die "no parameter binding in store_queries\n";
    my ($semicolon) = $store =~ /\t\t\t# add a semi-colon at end of the query\n(\t\t\t\$cur_info\{\$t_pid\}\{query\} \.= ';' .*\n)/
      or die "no semi-colon rule in store_queries\n";
    $prepare = eval "no strict 'vars'; no warnings; sub { $cleanup $binds[-1] return undef if (!\$cur_info{\$t_pid}{query}); $semicolon return \$cur_info{\$t_pid}{query}; }"
      or die $@;
}

binmode STDIN;
binmode STDOUT;
local $/ = "\0";
while (my $query = <STDIN>) {
    chomp $query;
    if ($stored) {
        my $parameters = <STDIN>;
        defined $parameters or die "odd number of records\n";
        chomp $parameters;
        $t_pid = 1;
        %cur_info = (1 => { query => $query });
        $cur_info{1}{parameters} = $parameters if $parameters ne '';
        $query = $prepare->();
        if (!defined $query) { print "\x01\0"; next; }
    }
    my $normalized = normalize_query($query);
    print defined $normalized ? $normalized : '', "\0";
}
