/* Keeps the test-support library non-empty. */
int sf_testsupport_empty_unit(void);
int sf_testsupport_empty_unit(void)
{
	return 0;
}
