"""The parameters a parameter group lists: the logging ones described exactly, the rest as names.

Real Aurora groups list several hundred parameters, most without a value (the engine default
applies). The logging parameters the log system reads carry realistic types, allowed values and
defaults; the others are real parameter names listed with their engine default, so that a client
has to page (100 per page at most) and find the ones it wants among many.
Scopes: `cluster` parameters live only in the DB cluster parameter group, `instance` ones only in
the DB parameter group, `both` in either (the DB parameter group's value wins, then the cluster
group's, then the engine default: AuroraUserGuide "USER_WorkingWithDBClusterParamGroups").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["cluster", "instance", "both"]


@dataclass(frozen=True)
class ParamDef:
    name: str
    scope: Scope
    data_type: str = "string"
    allowed: str | None = None
    default: str | None = None  # listed as ParameterValue with Source "engine-default"
    apply_type: str = "dynamic"
    description: str = ""
    modifiable: bool = True


MYSQL_LOGGING = (
    ParamDef("slow_query_log", "both", "boolean", "0,1", None, "dynamic",
             "Enable or disable the slow query log"),
    ParamDef("long_query_time", "both", "float", "0-31536000", None, "dynamic",
             "Defines what MySQL considers long queries"),
    ParamDef("log_output", "both", "string", "TABLE,FILE,NONE", "FILE", "dynamic",
             "Controls where to store query logs"),
    ParamDef("general_log", "both", "boolean", "0,1", None, "dynamic",
             "Enable or disable the general query log"),
    ParamDef("server_audit_logging", "cluster", "boolean", "0,1", None, "dynamic",
             "Enable or disable the audit log"),
    ParamDef("server_audit_events", "cluster", "list",
             "CONNECT,QUERY,QUERY_DCL,QUERY_DDL,QUERY_DML,QUERY_DML_NO_SELECT,TABLE", None,
             "dynamic", "Events to record in the audit log"),
    ParamDef("server_audit_excl_users", "cluster", "string", None, None, "dynamic",
             "Users whose activity is not audited"),
    ParamDef("server_audit_incl_users", "cluster", "string", None, None, "dynamic",
             "Users whose activity is audited"),
    ParamDef("log_slow_extra", "both", "boolean", "0,1", None, "dynamic",
             "Write extra fields to the slow query log"),
    ParamDef("log_queries_not_using_indexes", "both", "boolean", "0,1", None, "dynamic",
             "Log queries that do not use indexes to the slow query log"),
)  # fmt: skip

POSTGRES_LOGGING = (
    ParamDef("log_min_duration_statement", "both", "integer", "-1-2147483647", None, "dynamic",
             "(ms) Sets the minimum execution time above which statements will be logged."),
    ParamDef("log_statement", "both", "string", "none,ddl,mod,all", None, "dynamic",
             "Sets the type of statements logged."),
    ParamDef("log_connections", "both", "boolean", "0,1", None, "dynamic",
             "Logs each successful connection."),
    ParamDef("log_disconnections", "both", "boolean", "0,1", None, "dynamic",
             "Logs end of a session, including duration."),
    ParamDef("log_rotation_age", "both", "integer", "1-1440", "60", "dynamic",
             "(min) Automatic log file rotation will occur after N minutes."),
    ParamDef("log_rotation_size", "both", "integer", "50000-1000000", "100000", "dynamic",
             "(kB) Automatic log file rotation will occur after N kilobytes."),
    ParamDef("log_filename", "both", "string",
             "postgresql.log.%Y-%m-%d,postgresql.log.%Y-%m-%d-%H,postgresql.log.%Y-%m-%d-%H%M",
             "postgresql.log.%Y-%m-%d-%H%M", "dynamic", "Sets the file name pattern for log files."),
    ParamDef("log_destination", "both", "string", "stderr,csvlog", "stderr", "dynamic",
             "Sets the destination for server log output."),
    ParamDef("rds.log_retention_period", "both", "integer", "1440-10080", "4320", "dynamic",
             "Amazon RDS for PostgreSQL will delete PostgreSQL logs that are older than N minutes."),
    ParamDef("log_line_prefix", "both", "string", None, "%t:%r:%u@%d:[%p]:", "dynamic",
             "Controls information prefixed to each log line.", False),
)  # fmt: skip

# Real names, listed with no value: the engine default applies.
_MYSQL_CLUSTER_ONLY = """
aurora_binlog_read_buffer_size aurora_binlog_replication_max_yield_seconds
aurora_binlog_use_large_read_buffer aurora_disable_hash_join aurora_enable_repl_bin_log_filtering
aurora_enable_replica_log_compression aurora_enable_staggered_replica_restart
aurora_enable_zdr aurora_load_from_s3_role aurora_parallel_query aurora_select_into_s3_role
aws_default_lambda_role aws_default_s3_role binlog_checksum binlog_format
binlog_row_image binlog_row_metadata binlog_rows_query_log_events binlog_transaction_compression
character_set_database character_set_filesystem character_set_server collation_server
enforce_gtid_consistency gtid_mode innodb_autoinc_lock_mode innodb_checksums
innodb_cmp_per_index_enabled innodb_commit_concurrency innodb_data_home_dir innodb_file_per_table
innodb_flush_log_at_trx_commit innodb_ft_max_token_size innodb_ft_min_token_size
innodb_ft_num_word_optimize innodb_ft_sort_pll_degree innodb_online_alter_log_max_size
innodb_purge_batch_size innodb_purge_threads innodb_rollback_on_timeout innodb_rollback_segments
innodb_spin_wait_delay innodb_strict_mode innodb_support_xa innodb_sync_array_size
innodb_sync_spin_loops innodb_table_locks innodb_undo_directory innodb_undo_logs
lower_case_table_names master_verify_checksum
server_id skip_character_set_client_handshake sync_frm time_zone tls_version
"""
_MYSQL_BOTH = """
auto_increment_increment auto_increment_offset autocommit automatic_sp_privileges back_log
basedir big_tables binlog_cache_size binlog_stmt_cache_size bulk_insert_buffer_size
completion_type concurrent_insert connect_timeout default_password_lifetime
default_time_zone default_tmp_storage_engine delay_key_write delayed_insert_limit
delayed_insert_timeout delayed_queue_size div_precision_increment end_markers_in_json
eq_range_index_dive_limit event_scheduler explicit_defaults_for_timestamp flush flush_time
ft_boolean_syntax ft_max_word_len ft_min_word_len ft_query_expansion_limit group_concat_max_len
host_cache_size init_connect innodb_adaptive_hash_index innodb_adaptive_max_sleep_delay
innodb_autoextend_increment innodb_buffer_pool_size innodb_concurrency_tickets
innodb_deadlock_detect innodb_large_prefix innodb_lock_wait_timeout innodb_max_dirty_pages_pct
innodb_old_blocks_pct innodb_old_blocks_time innodb_open_files innodb_print_all_deadlocks
innodb_read_ahead_threshold innodb_read_io_threads innodb_sort_buffer_size
innodb_stats_method innodb_stats_on_metadata innodb_stats_persistent_sample_pages
innodb_stats_transient_sample_pages innodb_thread_concurrency innodb_thread_sleep_delay
interactive_timeout join_buffer_size keep_files_on_create key_buffer_size key_cache_age_threshold
key_cache_block_size key_cache_division_limit local_infile lock_wait_timeout log_bin_trust_function_creators
log_error_verbosity log_throttle_queries_not_using_indexes log_warnings
low_priority_updates max_allowed_packet max_connect_errors max_connections max_error_count
max_execution_time max_heap_table_size max_join_size max_length_for_sort_data max_prepared_stmt_count
max_seeks_for_key max_sort_length max_sp_recursion_depth max_user_connections min_examined_row_limit
myisam_sort_buffer_size net_buffer_length net_read_timeout net_retry_count net_write_timeout
old_passwords optimizer_prune_level optimizer_search_depth optimizer_switch
optimizer_trace optimizer_trace_max_mem_size performance_schema preload_buffer_size
query_alloc_block_size query_cache_size query_cache_type query_prealloc_size
range_alloc_block_size read_buffer_size read_only read_rnd_buffer_size require_secure_transport
show_compatibility_56 skip_name_resolve sort_buffer_size sql_mode sql_select_limit
stored_program_cache table_definition_cache table_open_cache table_open_cache_instances
thread_cache_size thread_handling thread_stack tmp_table_size transaction_isolation
transaction_prealloc_size tx_isolation updatable_views_with_limit wait_timeout
"""
_POSTGRES_CLUSTER_ONLY = """
apg_ccm_enabled apg_enable_batch_mode_function_execution apg_enable_correlated_any_transform
apg_enable_function_migration apg_enable_not_in_transform apg_enable_remove_redundant_inner_joins
apg_enable_semijoin_push_down apg_plan_mgmt.capture_plan_baselines apg_plan_mgmt.use_plan_baselines
archive_command archive_timeout aurora_compute_plan_id babelfishpg_tsql.database_name
client_encoding datestyle default_text_search_config extra_float_digits intervalstyle
lc_messages lc_monetary lc_numeric lc_time password_encryption rds.accepted_password_auth_method
rds.babelfish_status rds.enable_plan_management rds.force_ssl rds.logical_replication
rds.restrict_password_commands ssl ssl_ciphers ssl_max_protocol_version ssl_min_protocol_version
timezone track_commit_timestamp wal_level
"""
_POSTGRES_BOTH = """
application_name array_nulls auto_explain.log_analyze auto_explain.log_buffers
auto_explain.log_format auto_explain.log_min_duration auto_explain.log_nested_statements
autovacuum autovacuum_analyze_scale_factor autovacuum_analyze_threshold autovacuum_max_workers
autovacuum_naptime autovacuum_vacuum_cost_delay autovacuum_vacuum_cost_limit
autovacuum_vacuum_scale_factor autovacuum_vacuum_threshold autovacuum_work_mem backslash_quote
bytea_output check_function_bodies checkpoint_completion_target commit_delay commit_siblings
constraint_exclusion cpu_index_tuple_cost cpu_operator_cost cpu_tuple_cost cursor_tuple_fraction
deadlock_timeout debug_pretty_print default_statistics_target default_transaction_isolation
default_transaction_read_only effective_cache_size effective_io_concurrency enable_bitmapscan
enable_hashagg enable_hashjoin enable_indexonlyscan enable_indexscan enable_material
enable_mergejoin enable_nestloop enable_seqscan enable_sort enable_tidscan escape_string_warning
from_collapse_limit geqo geqo_effort geqo_generations geqo_pool_size geqo_seed geqo_selection_bias
geqo_threshold gin_fuzzy_search_limit hot_standby_feedback idle_in_transaction_session_timeout
join_collapse_limit lock_timeout log_autovacuum_min_duration log_checkpoints log_duration
log_error_verbosity log_executor_stats log_hostname log_lock_waits log_min_error_statement
log_min_messages log_parser_stats log_planner_stats log_replication_commands log_statement_stats
log_temp_files maintenance_work_mem max_connections max_locks_per_transaction
max_parallel_workers max_parallel_workers_per_gather max_pred_locks_per_transaction
max_prepared_transactions max_stack_depth pg_stat_statements.max pg_stat_statements.track
pgaudit.log pgaudit.log_catalog pgaudit.log_parameter pgaudit.role quote_all_identifiers
random_page_cost search_path seq_page_cost session_replication_role shared_buffers
shared_preload_libraries statement_timeout synchronize_seqscans tcp_keepalives_count
tcp_keepalives_idle tcp_keepalives_interval temp_buffers temp_file_limit track_activities
track_activity_query_size track_counts track_functions track_io_timing vacuum_cost_delay
vacuum_cost_limit vacuum_freeze_min_age vacuum_freeze_table_age work_mem xmlbinary xmloption
"""
_MYSQL_INSTANCE_ONLY = "innodb_buffer_pool_dump_at_shutdown innodb_buffer_pool_load_at_startup"
_POSTGRES_INSTANCE_ONLY = "rds.enable_memory_management rds.memory_allocation_guard"


def _named(names: str, scope: Scope, skip: set[str]) -> list[ParamDef]:
    return [ParamDef(n, scope) for n in names.split() if n not in skip]


def _catalog(logging: tuple[ParamDef, ...], cluster: str, both: str, inst: str) -> list[ParamDef]:
    skip = {d.name for d in logging}
    out = list(logging)
    out += _named(cluster, "cluster", skip) + _named(both, "both", skip)
    out += _named(inst, "instance", skip)
    return sorted(out, key=lambda d: d.name)


CATALOG: dict[str, list[ParamDef]] = {
    "aurora-mysql": _catalog(MYSQL_LOGGING, _MYSQL_CLUSTER_ONLY, _MYSQL_BOTH, _MYSQL_INSTANCE_ONLY),
    "aurora-postgresql": _catalog(
        POSTGRES_LOGGING, _POSTGRES_CLUSTER_ONLY, _POSTGRES_BOTH, _POSTGRES_INSTANCE_ONLY
    ),
}
